package dev.quarry.jobs;

import dev.quarry.connectors.ResultFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs a bulk-score job on the current execution environment (an embedded MiniCluster from the CLI),
 * drives a progress bar from live counters, and summarizes the committed output.
 */
public final class BulkScoreRunner {
    /** How often the progress bar is refreshed. */
    public static final Duration PROGRESS_INTERVAL = Duration.ofMillis(250);
    /** How often a progress line is printed when the console is not a terminal (a log file, a pipe). */
    public static final Duration PROGRESS_LINE_INTERVAL = Duration.ofSeconds(10);

    /** How progress is shown while the job runs. */
    public enum ProgressDisplay {
        /** Nothing. */
        NONE,
        /** A progress bar redrawn in place (for a terminal). */
        BAR,
        /** One plain line every {@link #PROGRESS_LINE_INTERVAL} and one at the end (for logs and pipes). */
        LINES;

        /** BAR on a terminal, LINES otherwise; NONE when progress is off. */
        public static ProgressDisplay auto(boolean progress) {
            return !progress ? NONE : System.console() != null ? BAR : LINES;
        }
    }

    /** What a finished run produced, counted from the committed output files. */
    public record Summary(long inputRows, ResultFiles.Stats results, ResultFiles.Stats errors, Duration wall, String output, String errorsOutput) {
        public long rows() { return results.rows() + errors.rows(); }

        public String render() {
            ResultFiles.Stats all = results.plus(errors);
            double s = Math.max(wall.toMillis(), 1) / 1000.0;
            StringBuilder b = new StringBuilder();
            b.append(String.format("rows:        %d of %d input rows (%d ok, %d errors)%n", rows(), inputRows, results.rows(), errors.rows()));
            if (!all.errorsByKind().isEmpty()) b.append(String.format("errors:      %s%n", all.errorsByKind()));
            b.append(String.format("tokens:      %d prompt, %d generated%n", all.promptTokens(), all.generatedTokens()));
            b.append(String.format("wall time:   %.1f s (%.1f rows/s, %.1f generated tokens/s)%n", s, rows() / s, all.generatedTokens() / s));
            b.append(String.format("results:     %s%n", output));
            b.append(String.format("errors out:  %s%n", errorsOutput));
            return b.toString();
        }
    }

    private BulkScoreRunner() {}

    /** Runs the job; with {@code progress}, a bar on a terminal, else plain progress lines ({@link ProgressDisplay#auto}). */
    public static Summary run(BulkScoreJob.Options o, EngineFactory engines, PrintStream console, boolean progress) throws Exception {
        return run(o, engines, console, ProgressDisplay.auto(progress));
    }

    public static Summary run(BulkScoreJob.Options o, EngineFactory engines, PrintStream console, ProgressDisplay display) throws Exception {
        requireEmpty(o.output);
        requireEmpty(o.errors);
        long total = BulkScoreJob.countRows(o);
        String runId = UUID.randomUUID().toString();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(BulkScoreJob.configuration(o));
        BulkScoreJob.build(env, o, engines, runId);
        long start = System.nanoTime();
        // live counters are read in this JVM: only an embedded MiniCluster (or a test cluster) feeds them
        boolean inProcess = !env.getClass().getName().equals("org.apache.flink.client.program.StreamContextEnvironment");
        if (!inProcess) display = ProgressDisplay.NONE;
        boolean progressBar = display == ProgressDisplay.BAR;
        JobClient client = env.executeAsync(BulkScoreJob.JOB_NAME);
        Progress.Counters c = Progress.of(runId);
        long nextLine = start + PROGRESS_LINE_INTERVAL.toNanos();
        try (ProgressBar pb = progressBar ? new ProgressBarBuilder().setTaskName("scoring").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(console))
                .setUnit(" rows", 1).showSpeed(new java.text.DecimalFormat("0.0")).setUpdateIntervalMillis((int) PROGRESS_INTERVAL.toMillis()).build() : null) {
            while (true) {
                try {
                    client.getJobExecutionResult().get(PROGRESS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException notYet) {
                    if (pb != null) update(pb, c, total, start);
                    if (display == ProgressDisplay.LINES && System.nanoTime() >= nextLine) {
                        console.println(progressLine(c, total, start));
                        nextLine += PROGRESS_LINE_INTERVAL.toNanos();
                    }
                } catch (ExecutionException failed) {
                    throw new IllegalStateException("bulk-score job failed: " + rootMessage(failed), failed.getCause());
                }
            }
            if (pb != null) {
                update(pb, c, total, start);
                pb.stepTo(total);
            }
            if (display == ProgressDisplay.LINES) console.println(progressLine(c, total, start));
        } finally {
            Progress.forget(runId);
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - start);
        // the file sinks create a directory only for their first part file: the one no row went to (no errors, or no
        // successes) would be missing, yet the summary names it and scripts read both
        for (String dir : new String[] {o.output, o.errors}) {
            Path p = new Path(dir);
            p.getFileSystem().mkdirs(p);
        }
        return new Summary(total, ResultFiles.stats(new Path(o.output)), ResultFiles.stats(new Path(o.errors)), wall, o.output, o.errors);
    }

    /** {@code scoring: 128/300 rows (42%), 25.6 rows/s, 232 tok/s, 0 errors, 5 s}: one line, no carriage returns. */
    static String progressLine(Progress.Counters c, long total, long start) {
        long done = Math.min(c.rows.sum(), total);
        double s = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
        return String.format("scoring: %d/%d rows (%d%%), %.1f rows/s, %.0f tok/s, %d errors, %.0f s", done, total,
                total == 0 ? 100 : done * 100 / total, done / s, c.generatedTokens.sum() / s, c.errors.sum(), s);
    }

    private static void update(ProgressBar pb, Progress.Counters c, long total, long start) {
        long done = Math.min(c.rows.sum(), total);
        pb.stepTo(done);
        double s = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
        pb.setExtraMessage(String.format(" %.0f tok/s, %d errors", c.generatedTokens.sum() / s, c.errors.sum()));
    }

    static void requireEmpty(String dir) throws IOException {
        Path p = new Path(dir);
        FileSystem fs = p.getFileSystem();
        if (fs.exists(p) && (!fs.getFileStatus(p).isDir() || fs.listStatus(p).length > 0)) {
            throw new IllegalArgumentException("output " + dir + " already exists and is not empty; choose another path or remove it");
        }
    }

    static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) r = r.getCause();
        return r.getClass().getSimpleName() + ": " + r.getMessage();
    }
}
