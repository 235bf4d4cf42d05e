package dev.quarry.jobs;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * End-to-end throughput: the same records and task through the engine alone (direct submits, at most
 * {@code parallelism x capacity} in flight, like the operator) and through the bulk-score pipeline
 * (Parquet -> Flink MiniCluster -> engine -> Parquet), alternated {@code repeats} times after a warm-up of
 * both paths in this JVM. Each run reports its wall time (for the pipeline: job submission to committed
 * output, model load included) and its engine window: first record submitted to the engine -> last result
 * back, measured the same way for both, so the pipeline's window holds all its per-record costs (source,
 * serialization, Async I/O hand-off, sink) but not job start-up and model load. A benchmark, not a test:
 * run it on a quiet machine.
 */
public final class PipelineBench {
    /** One measured run: {@code window} = first submit to last result seen by the engine. */
    public record Run(String what, long records, long promptTokens, long generatedTokens, Duration wall, Duration window) {
        public double recordsPerSecond() { return records / seconds(window); }
        public double generatedTokensPerSecond() { return generatedTokens / seconds(window); }
        public double promptTokensPerSecond() { return promptTokens / seconds(window); }
        public double wallRecordsPerSecond() { return records / seconds(wall); }
        static double seconds(Duration d) { return Math.max(1, d.toMillis()) / 1000.0; }
    }

    /** All runs (alternating engine alone, pipeline) and the pipeline's share of engine-alone throughput. */
    public record Report(List<Run> engineAlone, List<Run> pipeline) {
        /** Pipeline records/s over engine-alone records/s, both over their engine windows, all repeats pooled. */
        public double ratio() { return rate(pipeline, false) / rate(engineAlone, false); }

        /** The same with the pipeline's wall time (job start and model load included). */
        public double wallRatio() { return rate(pipeline, true) / rate(engineAlone, false); }

        static double rate(List<Run> runs, boolean wall) {
            long records = 0;
            double s = 0;
            for (Run r : runs) {
                records += r.records();
                s += Run.seconds(wall ? r.wall() : r.window());
            }
            return records / s;
        }

        public String render() {
            StringBuilder b = new StringBuilder();
            b.append(String.format("| run | records | prompt tok | generated tok | wall s | engine window s | records/s | prompt tok/s | generated tok/s |%n"
                    + "|---|---|---|---|---|---|---|---|---|%n"));
            for (int i = 0; i < engineAlone.size(); i++) {
                for (Run r : List.of(engineAlone.get(i), pipeline.get(i))) {
                    b.append(String.format("| %s #%d | %d | %d | %d | %.2f | %.2f | %.2f | %.0f | %.1f |%n", r.what(), i + 1, r.records(),
                            r.promptTokens(), r.generatedTokens(), Run.seconds(r.wall()), Run.seconds(r.window()), r.recordsPerSecond(),
                            r.promptTokensPerSecond(), r.generatedTokensPerSecond()));
                }
            }
            b.append(String.format("pipeline / engine alone (records/s over the engine window, all repeats): %.1f %%%n", 100 * ratio()));
            b.append(String.format("pipeline incl. job start and model load / engine alone: %.1f %%%n", 100 * wallRatio()));
            return b.toString();
        }
    }

    /** First-submit and last-result times of the engines opened through {@link #timed} (one JVM: MiniCluster is local). */
    static final AtomicLong FIRST_SUBMIT = new AtomicLong(Long.MAX_VALUE);
    static final AtomicLong LAST_RESULT = new AtomicLong(Long.MIN_VALUE);

    static void resetWindow() {
        FIRST_SUBMIT.set(Long.MAX_VALUE);
        LAST_RESULT.set(Long.MIN_VALUE);
    }

    static Duration window() {
        return Duration.ofNanos(Math.max(0, LAST_RESULT.get() - FIRST_SUBMIT.get()));
    }

    /** Wraps engines so their submissions and results mark the measured window. */
    static EngineFactory timed(EngineFactory inner) {
        return o -> new TimedEngine(inner.open(o));
    }

    private static final class TimedEngine implements Engine {
        private final Engine inner;

        TimedEngine(Engine inner) { this.inner = inner; }

        @Override
        public CompletableFuture<TaskResult> submit(Task task, TaskInput input) {
            FIRST_SUBMIT.accumulateAndGet(System.nanoTime(), Math::min);
            CompletableFuture<TaskResult> f = inner.submit(task, input);
            f.whenComplete((r, e) -> LAST_RESULT.accumulateAndGet(System.nanoTime(), Math::max));
            return f;
        }

        @Override public CompletableFuture<GenerationResult> generate(GenerationRequest request) { return inner.generate(request); }
        @Override public ModelInfo modelInfo() { return inner.modelInfo(); }
        @Override public EngineStats stats() { return inner.stats(); }
        @Override public TextCodec codec() { return inner.codec(); }
        @Override public void close() { inner.close(); }
    }

    private PipelineBench() {}

    /** Synthetic review-like texts of roughly {@code words} words. */
    public static List<String> texts(int n, int words) {
        String[] vocab = {"the", "delivery", "was", "late", "but", "product", "works", "well", "and", "support", "helped", "quickly",
                "battery", "lasts", "long", "screen", "is", "bright", "price", "fair"};
        List<String> out = new ArrayList<>(n);
        java.util.Random r = new java.util.Random(42);
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder();
            for (int w = 0; w < words; w++) b.append(w == 0 ? "" : " ").append(vocab[r.nextInt(vocab.length)]);
            out.add(b.append('.').toString());
        }
        return out;
    }

    public static Report run(ScoringSpec spec, EngineFactory engines, List<String> texts, int parallelism, Path work) throws Exception {
        return run(spec, engines, texts, parallelism, work, 1, System.err);
    }

    /**
     * Warm-up (all records through the engine alone, a few through the pipeline; unmeasured), then
     * {@code repeats} x (engine alone, pipeline).
     * Progress lines go to {@code log}.
     */
    public static Report run(ScoringSpec spec, EngineFactory engines, List<String> texts, int parallelism, Path work, int repeats,
                             PrintStream log) throws Exception {
        Path in = writeInput(work.resolve("bench-input"), texts);
        // Warm-up: the whole record set through the engine once (libtorch/oneDNN set up kernels per new tensor shape
        // on first use, process-wide, and the JIT compiles the scheduler's paths: whichever path ran first would pay
        // it), then a few records through the pipeline (Flink's classes and the MiniCluster code paths).
        engineAlone(spec, engines, texts, parallelism * spec.capacity());
        List<String> warm = texts.subList(0, Math.min(texts.size(), Math.max(2, parallelism * 2)));
        pipeline(spec, engines, writeInput(work.resolve("warmup-input"), warm), work.resolve("warmup-output"), parallelism);
        log.println("pipeline-bench: warm-up done");
        List<Run> alone = new ArrayList<>();
        List<Run> pipe = new ArrayList<>();
        for (int i = 1; i <= repeats; i++) {
            Run a = engineAlone(spec, engines, texts, parallelism * spec.capacity());
            log.printf("pipeline-bench: engine alone #%d: %.2f records/s over %.1f s%n", i, a.recordsPerSecond(), Run.seconds(a.window()));
            alone.add(a);
            Run p = pipeline(spec, engines, in, work.resolve("bench-output-" + i), parallelism);
            log.printf("pipeline-bench: pipeline #%d: %.2f records/s over %.1f s (wall %.1f s)%n", i, p.recordsPerSecond(),
                    Run.seconds(p.window()), Run.seconds(p.wall()));
            pipe.add(p);
        }
        return new Report(alone, pipe);
    }

    static Path writeInput(Path dir, List<String> texts) throws Exception {
        Schema schema = SchemaBuilder.record("row").fields().requiredString("id").requiredString("text").endRecord();
        List<GenericRecord> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            GenericData.Record g = new GenericData.Record(schema);
            g.put("id", "r" + i);
            g.put("text", texts.get(i));
            rows.add(g);
        }
        Files.createDirectories(dir);
        ParquetFiles.writeLocal(dir.resolve("input.parquet"), schema, rows);
        return dir;
    }

    static Run pipeline(ScoringSpec spec, EngineFactory engines, Path in, Path out, int parallelism) throws Exception {
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(out.toString())
                .mapping(InputMapping.builder().idField("id").textField("text").build()).spec(spec).parallelism(parallelism)
                .checkpointInterval(Duration.ofSeconds(10)).build();
        resetWindow();
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, timed(engines), new PrintStream(OutputStream.nullOutputStream()), false);
        var all = s.results().plus(s.errors());
        return new Run("pipeline", s.rows(), all.promptTokens(), all.generatedTokens(), s.wall(), window());
    }

    static Run engineAlone(ScoringSpec spec, EngineFactory engines, List<String> texts, int inFlight) throws Exception {
        try (Engine engine = timed(engines).open(spec.engineOptions())) {
            Task task = TaskFactory.build(spec);
            Semaphore permits = new Semaphore(inFlight);
            List<CompletableFuture<TaskResult>> futures = new ArrayList<>(texts.size());
            resetWindow();
            long start = System.nanoTime();
            for (int i = 0; i < texts.size(); i++) {
                permits.acquire();
                CompletableFuture<TaskResult> f = engine.submit(task, new TaskInput("r" + i, texts.get(i), Map.of(), i));
                f.whenComplete((r, e) -> permits.release());
                futures.add(f);
            }
            long pt = 0, gt = 0;
            for (CompletableFuture<TaskResult> f : futures) {
                TaskResult r = f.get();
                pt += r.promptTokens();
                gt += r.generatedTokens();
            }
            Duration wall = Duration.ofNanos(System.nanoTime() - start);
            return new Run("engine alone", texts.size(), pt, gt, wall, window());
        }
    }
}
