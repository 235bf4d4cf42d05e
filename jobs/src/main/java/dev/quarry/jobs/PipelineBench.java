package dev.quarry.jobs;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.engine.Engine;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * End-to-end throughput: the same records and task through the engine alone (direct submits, at most
 * {@code parallelism x capacity} in flight, like the operator) and through the bulk-score pipeline
 * (Parquet -> Flink MiniCluster -> engine -> Parquet). A benchmark, not a test: run it on a quiet machine.
 */
public final class PipelineBench {
    /** One measured run. */
    public record Run(String what, long records, long promptTokens, long generatedTokens, Duration wall) {
        public double recordsPerSecond() { return records / seconds(); }
        public double generatedTokensPerSecond() { return generatedTokens / seconds(); }
        double seconds() { return Math.max(1, wall.toMillis()) / 1000.0; }
    }

    /** Both runs and the pipeline's share of engine-alone throughput. */
    public record Report(Run engineAlone, Run pipeline) {
        public double ratio() { return pipeline.recordsPerSecond() / engineAlone.recordsPerSecond(); }

        public String render() {
            StringBuilder b = new StringBuilder();
            b.append(String.format("| run | records | prompt tok | generated tok | wall s | records/s | generated tok/s |%n|---|---|---|---|---|---|---|%n"));
            for (Run r : List.of(engineAlone, pipeline)) {
                b.append(String.format("| %s | %d | %d | %d | %.2f | %.2f | %.1f |%n", r.what(), r.records(), r.promptTokens(),
                        r.generatedTokens(), r.seconds(), r.recordsPerSecond(), r.generatedTokensPerSecond()));
            }
            b.append(String.format("pipeline / engine alone (records/s): %.1f %%%n", 100 * ratio()));
            return b.toString();
        }
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
        Run alone = engineAlone(spec, engines, texts, parallelism * spec.capacity());
        Schema schema = SchemaBuilder.record("row").fields().requiredString("id").requiredString("text").endRecord();
        List<GenericRecord> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            GenericData.Record g = new GenericData.Record(schema);
            g.put("id", "r" + i);
            g.put("text", texts.get(i));
            rows.add(g);
        }
        Path in = work.resolve("bench-input");
        Files.createDirectories(in);
        ParquetFiles.writeLocal(in.resolve("input.parquet"), schema, rows);
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(work.resolve("bench-output").toString())
                .mapping(InputMapping.builder().idField("id").textField("text").build()).spec(spec).parallelism(parallelism)
                .checkpointInterval(Duration.ofSeconds(10)).build();
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, engines, System.err, false);
        var all = s.results().plus(s.errors());
        Run pipeline = new Run("bulk-score pipeline (Parquet -> Flink -> engine -> Parquet, incl. job start)", s.rows(),
                all.promptTokens(), all.generatedTokens(), s.wall());
        return new Report(alone, pipeline);
    }

    static Run engineAlone(ScoringSpec spec, EngineFactory engines, List<String> texts, int inFlight) throws Exception {
        try (Engine engine = engines.open(spec.engineOptions())) {
            Task task = TaskFactory.build(spec);
            // warm-up outside the measurement (the pipeline's engine load is inside its wall time, a cost it really pays)
            engine.submit(task, new dev.quarry.engine.task.TaskInput("warm", texts.get(0), java.util.Map.of(), 0)).get();
            Semaphore permits = new Semaphore(inFlight);
            List<CompletableFuture<TaskResult>> futures = new ArrayList<>(texts.size());
            long start = System.nanoTime();
            for (int i = 0; i < texts.size(); i++) {
                permits.acquire();
                CompletableFuture<TaskResult> f = engine.submit(task, new dev.quarry.engine.task.TaskInput("r" + i, texts.get(i), java.util.Map.of(), i));
                f.whenComplete((r, e) -> permits.release());
                futures.add(f);
            }
            long pt = 0, gt = 0;
            for (CompletableFuture<TaskResult> f : futures) {
                TaskResult r = f.get();
                pt += r.promptTokens();
                gt += r.generatedTokens();
            }
            return new Run("engine alone (direct submits)", texts.size(), pt, gt, Duration.ofNanos(System.nanoTime() - start));
        }
    }
}
