package dev.quarry.jobs;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.RowFileFormat;
import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.arrow.ArrowResults;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import dev.quarry.connectors.parquet.ParquetResults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Bulk scoring: Parquet or Arrow files in, one results dataset and one errors dataset out.
 *
 * <p>Guarantees: every input row yields exactly one output row, in the results output when it
 * succeeded and in the errors output (same columns, {@code error_kind}/{@code error_message} set)
 * when it failed; across failures too, because the file source checkpoints its position, Async I/O
 * checkpoints in-flight records and the file sinks commit files only on completed checkpoints.
 *
 * <p>Run it with {@code quarry bulk-score ...} (embedded MiniCluster, progress bar) or submit
 * {@link #main} with {@code flink run -c dev.quarry.jobs.BulkScoreJob quarry-jobs.jar ...} (same flags).
 */
public final class BulkScoreJob {
    public static final String JOB_NAME = "quarry bulk-score";
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
    public static final int DEFAULT_RESTART_ATTEMPTS = 3;
    public static final String ERRORS_SUFFIX = "_errors";

    /** Input / output file formats. */
    public enum Format {
        PARQUET, ARROW;

        public static Format parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("unknown format '" + s + "' (expected parquet or arrow)");
            }
        }

        /**
         * Guesses the input format from the names of the data files under a path (case-insensitive): {@code .arrow},
         * {@code .ipc}, {@code .feather} mean Arrow, anything else Parquet. Refuses, naming a file of each, an input
         * that mixes Arrow files with others.
         */
        public static Format guess(Path p) {
            List<Path> files = BulkInput.list(p);
            return guess(files.isEmpty() ? List.of(p) : files);
        }

        /** {@link #guess(Path)} over a list of files. */
        public static Format guess(List<Path> files) {
            Path arrow = null, other = null;
            for (Path f : files) {
                if (isArrowName(f.getName())) {
                    if (arrow == null) arrow = f;
                } else if (other == null) {
                    other = f;
                }
            }
            if (arrow != null && other != null) {
                throw new IllegalArgumentException("the input mixes Arrow and other files, e.g. " + arrow + " and " + other
                        + "; score each format in its own run (an --input directory of one format, or a single file)");
            }
            return arrow != null ? ARROW : PARQUET;
        }

        private static boolean isArrowName(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            return n.endsWith(".arrow") || n.endsWith(".ipc") || n.endsWith(".feather");
        }
    }

    /** Everything a bulk-score run needs; validated in {@link Builder#build()}. */
    public static final class Options implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        public final String input;
        public final String output;
        public final String errors;
        public final Format inputFormat;
        public final Format outputFormat;
        public final InputMapping mapping;
        public final ScoringSpec spec;
        public final int parallelism;
        public final Duration checkpointInterval;
        public final int restartAttempts;
        /** The id column was asked for explicitly: every input file must have it (checked in {@link Builder#build()}). */
        public final boolean requireIdColumn;
        /** The input files and their columns, inspected in {@link Builder#build()}. */
        public final BulkInput inputFiles;

        private Options(Builder b) {
            this.input = b.input;
            this.output = b.output;
            this.errors = b.errors != null ? b.errors : stripSlash(b.output) + ERRORS_SUFFIX;
            this.inputFormat = b.inputFormat != null ? b.inputFormat : Format.guess(new Path(b.input));
            this.outputFormat = b.outputFormat;
            this.mapping = b.mapping;
            this.spec = b.spec;
            this.parallelism = b.parallelism;
            this.checkpointInterval = b.checkpointInterval;
            this.restartAttempts = b.restartAttempts;
            this.requireIdColumn = b.requireIdColumn;
            this.inputFiles = BulkInput.inspect(new Path(b.input), inputFormat, b.mapping, b.requireIdColumn);
        }

        public static Builder builder() { return new Builder(); }

        public static final class Builder {
            private String input;
            private String output;
            private String errors;
            private Format inputFormat;
            private Format outputFormat = Format.PARQUET;
            private InputMapping mapping = InputMapping.defaults();
            private ScoringSpec spec;
            private int parallelism = 1;
            private Duration checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL;
            private int restartAttempts = DEFAULT_RESTART_ATTEMPTS;
            private boolean requireIdColumn;

            /** A file or directory, local path or any Flink file system URI. */
            public Builder input(String v) { this.input = v; return this; }
            /** Results directory (must be empty or absent). */
            public Builder output(String v) { this.output = v; return this; }
            /** Errors directory; default: the output path + {@value #ERRORS_SUFFIX}. */
            public Builder errors(String v) { this.errors = v; return this; }
            /** Default: guessed from the file names. */
            public Builder inputFormat(Format v) { this.inputFormat = v; return this; }
            public Builder outputFormat(Format v) { this.outputFormat = v; return this; }
            public Builder mapping(InputMapping v) { this.mapping = v; return this; }
            public Builder spec(ScoringSpec v) { this.spec = v; return this; }
            public Builder parallelism(int v) { this.parallelism = v; return this; }
            /** Output files commit on each checkpoint; a shorter interval shows results sooner. */
            public Builder checkpointInterval(Duration v) { this.checkpointInterval = v; return this; }
            /** Fixed-delay restarts before the job fails. */
            public Builder restartAttempts(int v) { this.restartAttempts = v; return this; }
            /**
             * Every input file must have the mapping's id column (the CLI sets this when {@code --id-column} is
             * given): a misspelt column then fails at start-up instead of silently giving position-based ids.
             * Default false: rows of files without the id column get {@code file#row} ids.
             */
            public Builder requireIdColumn(boolean v) { this.requireIdColumn = v; return this; }

            public Options build() {
                if (input == null || input.isBlank()) throw new IllegalArgumentException("--input must be set");
                if (output == null || output.isBlank()) throw new IllegalArgumentException("--output must be set");
                Objects.requireNonNull(spec, "scoring spec");
                Objects.requireNonNull(mapping, "mapping");
                Objects.requireNonNull(outputFormat, "output format");
                if (parallelism < 1) throw new IllegalArgumentException("--parallelism must be >= 1");
                if (checkpointInterval == null || checkpointInterval.toMillis() < 10) throw new IllegalArgumentException("--checkpoint-interval must be >= 10ms");
                if (restartAttempts < 0) throw new IllegalArgumentException("restart attempts must be >= 0");
                if (errors != null && overlap(output, errors)) {
                    // both sinks would write into one tree: results and error rows mixed, each counted twice in the summary
                    throw new IllegalArgumentException("--errors " + errors + " and --output " + output
                            + " must be separate directories, neither inside the other");
                }
                for (String[] out : new String[][] {{"--output", output}, {"--errors", errors}}) {
                    if (out[1] != null && overlap(input, out[1])) {
                        // the next run over the same --input would read this run's results as input rows
                        throw new IllegalArgumentException(out[0] + " " + out[1] + " lies inside --input " + input
                                + " (or contains it): a later run over that input would read the results as input; write them elsewhere");
                    }
                }
                return new Options(this);
            }

            /** Whether two output paths are the same directory or one lies inside the other. */
            static boolean overlap(String a, String b) {
                String x = normalized(a);
                String y = normalized(b);
                return x.equals(y) || x.startsWith(y.endsWith("/") ? y : y + "/") || y.startsWith(x.endsWith("/") ? x : x + "/");
            }

            private static String normalized(String p) {
                java.net.URI u = new Path(p).toUri();
                if (u.getScheme() == null || u.getScheme().equals("file")) {
                    return java.nio.file.Path.of(u.getPath()).toAbsolutePath().normalize().toString();
                }
                return u.normalize().toString();
            }
        }
    }

    private BulkScoreJob() {}

    /** The job's Flink configuration: checkpointing and a bounded fixed-delay restart strategy. */
    public static Configuration configuration(Options o) {
        Configuration c = new Configuration();
        // the embedded MiniCluster would otherwise try Hadoop delegation tokens (Hadoop is only here for Parquet)
        c.set(org.apache.flink.configuration.SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, o.restartAttempts);
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        return c;
    }

    /**
     * The result columns for this input: the passthrough columns of all input files (input types kept; null in
     * the rows of a file without the column), see {@link BulkInput}.
     */
    public static ResultSchema resultSchema(Options o) {
        ResultSchema.Builder b = o.inputFiles.addPassthrough(ResultSchema.builder(o.spec.task()));
        if (o.spec.task() == ResultSchema.TaskKind.EXTRACT) b.extractFieldsFromJsonSchema(o.spec.schemaJson());
        return b.build();
    }

    /** Total input rows (Parquet: from the footers; Arrow: from the record batches). */
    public static long countRows(Options o) {
        long n = 0;
        for (Path f : o.inputFiles.paths()) {
            try {
                n += o.inputFormat == Format.PARQUET ? ParquetFiles.footer(f).getBlocks().stream().mapToLong(b -> b.getRowCount()).sum()
                        : ArrowInputFormat.countRows(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        return n;
    }

    /** Adds the job to {@code env}: source -> inference -> results and errors sinks. */
    public static void build(StreamExecutionEnvironment env, Options o, EngineFactory engines, String progressRunId) {
        env.enableCheckpointing(o.checkpointInterval.toMillis());
        env.setParallelism(o.parallelism);
        ResultSchema rs = resultSchema(o);
        Path in = new Path(o.input);
        RowFileFormat format = o.inputFormat == Format.PARQUET
                ? new ParquetInputFormat(o.mapping, o.inputFiles.parquetSchema())
                : new ArrowInputFormat(o.mapping);
        // exactly the inspected files (the ones the result columns and the row count were planned from); they are
        // already filtered (BulkInput.list), so no second filter: an input file named explicitly may start with '_'
        FileSource<InputRecord> source = FileSource.forBulkFileFormat(format, o.inputFiles.paths().toArray(Path[]::new))
                .setFileEnumerator(() -> new NonSplittingRecursiveEnumerator(path -> true)).build();
        DataStream<InputRecord> input = env.fromSource(source,
                WatermarkStrategy.noWatermarks(), "input:" + in.getName()).uid("input");
        DataStream<ResultRecord> results = ScoringPipeline.score(input, o.spec, engines);
        if (progressRunId != null) results = results.map(Progress.counting(progressRunId)).name("progress");
        Path out = new Path(o.output);
        Path err = new Path(o.errors);
        results.filter(r -> !r.isError()).name("succeeded")
                .sinkTo(o.outputFormat == Format.PARQUET ? ParquetResults.sink(out, rs) : ArrowResults.sink(out, rs))
                .name("results").uid("results");
        results.filter(ResultRecord::isError).name("failed")
                .sinkTo(o.outputFormat == Format.PARQUET ? ParquetResults.sink(err, rs) : ArrowResults.sink(err, rs))
                .name("errors").uid("errors");
    }

    static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** {@code flink run} entry point; takes the same flags as {@code quarry bulk-score}. */
    public static void main(String[] args) {
        int code = new picocli.CommandLine(new dev.quarry.jobs.cli.BulkScoreCommand()).execute(args);
        if (code != 0) throw new IllegalStateException("bulk-score failed with exit code " + code);
    }
}
