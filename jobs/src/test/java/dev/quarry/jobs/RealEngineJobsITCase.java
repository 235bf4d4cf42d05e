package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.testing.FlinkTestCluster;
import dev.quarry.jobs.cli.DemoCommand;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Bulk scoring and the demo through the real DJL engine on a tiny checkpoint generated here. */
@Timeout(600)
class RealEngineJobsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    /** The first {@code n} rows of the bundled sample as a Parquet file. */
    static Path sample(Path dir, int n) throws Exception {
        Files.createDirectories(dir);
        Path full = dir.resolve("full.parquet");
        try (InputStream in = DemoCommand.class.getResourceAsStream(DemoCommand.SAMPLE_RESOURCE)) {
            Files.copy(in, full);
        }
        List<GenericRecord> rows = ParquetFiles.readLocal(full);
        Path part = dir.resolve("in");
        Files.createDirectories(part);
        ParquetFiles.writeLocal(part.resolve("sample.parquet"), rows.get(0).getSchema(), rows.subList(0, n));
        Files.delete(full);
        return part;
    }

    @Test
    void classifyAndSummarizeThroughTheRealEngine(@TempDir Path tmp) throws Exception {
        Path model = RealEngine.checkpoint(tmp.resolve("cache"));
        Path in = sample(tmp.resolve("data"), 24);
        for (TaskKind task : List.of(TaskKind.CLASSIFY, TaskKind.SUMMARIZE)) {
            ScoringSpec spec = ScoringSpec.builder().task(task).labels(List.of("positive", "negative", "neutral"))
                    .maxNewTokens(4).modelDir(model).build();
            BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve(task.wireName()).toString())
                    .mapping(InputMapping.builder().idField("id").textField("text").build()).spec(spec).parallelism(2)
                    .checkpointInterval(Duration.ofMillis(500)).build();
            BulkScoreRunner.Summary s = BulkScoreRunner.run(o, EngineFactory.real(), System.err, false);
            assertEquals(24, s.results().rows(), s.render());
            assertEquals(24, new HashSet<>(ResultFiles.ids(new org.apache.flink.core.fs.Path(s.output()))).size());
            for (Map<String, Object> r : ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 24)) {
                assertNotNull(r.get("model_hash"));
                assertTrue((Integer) r.get("prompt_tokens") > 0, r.toString());
                assertNotNull(r.get("product"), "passthrough column kept");
                if (task == TaskKind.CLASSIFY) {
                    assertTrue(Set.of("positive", "negative", "neutral").contains(r.get("label")), r.toString());
                    @SuppressWarnings("unchecked")
                    Map<String, Double> p = (Map<String, Double>) r.get("probabilities");
                    assertEquals(1.0, p.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-3);
                } else {
                    assertNotNull(r.get("text"));
                    int g = (Integer) r.get("generated_tokens");
                    assertTrue(g >= 1 && g <= 4, r.toString());
                }
            }
        }
    }

    @Test
    void parquetToParquetWithInducedCrashesHasEachIdOnce(@TempDir Path tmp) throws Exception {
        Path model = RealEngine.checkpoint(tmp.resolve("cache"));
        int n = 600;
        Path in = BulkScoreJobITCase.writeInput(tmp.resolve("in"), n);
        FakeEngine.SUBMITTED.set(0);
        FakeEngine.crashNow.set(false);
        FakeEngine.crashAt.set(250);                      // 1: a fixed submission, checkpoints every 100 ms before it
        CrashingEngine.CRASHES.clear();
        // 2: with requests inside the engine (this cheap task keeps up with the source, so often only one or two)
        CrashingEngine.crashWhen.set(e -> FakeEngine.SUBMITTED.get() > 300 && e.outstanding() >= 1
                ? "inside the engine (" + e.outstanding() + " requests in the engine)" : null);
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.PROMPT).template("{text}").maxNewTokens(2)
                .modelDir(model).capacity(16).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build())
                .spec(spec).parallelism(2).checkpointInterval(Duration.ofMillis(100)).restartAttempts(4).build();
        BulkScoreRunner.Summary s;
        try {
            s = BulkScoreRunner.run(o, CrashingEngine.wrap(EngineFactory.real()), System.err, false);
        } finally {
            CrashingEngine.crashWhen.set(null);
        }
        assertEquals(0, FakeEngine.crashAt.get(), "crash 1 was injected");
        assertEquals(1, CrashingEngine.CRASHES.size(), "crash 2 was injected: " + CrashingEngine.CRASHES + " after " + FakeEngine.SUBMITTED.get() + " submissions");
        assertTrue(FakeEngine.SUBMITTED.get() > n, "records were replayed: " + FakeEngine.SUBMITTED.get());
        assertEquals(n, s.inputRows());
        assertEquals(n, s.rows(), "output rows = input rows: " + s.render());
        Set<String> ids = new HashSet<>(ResultFiles.ids(new org.apache.flink.core.fs.Path(s.output())));
        ids.addAll(ResultFiles.ids(new org.apache.flink.core.fs.Path(s.errorsOutput())));
        assertEquals(n, ids.size(), "each id exactly once");
        long empties = 0, nulls = 0;
        for (int i = 0; i < n; i++) {
            if (i % 97 == 5) empties++;
            else if (i % 101 == 7) continue;   // a 201-char text: fine for the real engine's 4096-token budget
            else if (i % 103 == 9) nulls++;
        }
        Map<String, Long> errs = s.errors().errorsByKind();
        assertEquals(Map.of("empty_input", empties, "invalid_record", nulls), errs);
        assertEquals(n - empties - nulls, s.results().rows());
        for (Map<String, Object> r : ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 20)) {
            int g = (Integer) r.get("generated_tokens");
            assertTrue(g >= 1 && g <= 2, r.toString());
            assertTrue(r.get("stars") instanceof Integer, "passthrough keeps its int type");
        }
    }

    @Test
    void demoRunsFromACleanDirectoryWithTheBuiltInCheckpoint(@TempDir Path tmp) throws Exception {
        DemoCommand demo = new DemoCommand();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DemoCommandITCase.setField(demo, "out", new PrintStream(buf, true, StandardCharsets.UTF_8));
        Path out = tmp.resolve("workdir").resolve("quarry-demo-output");
        int code = new CommandLine(demo).execute("--output", out.toString(), "--cache-dir", tmp.resolve("cache").toString(), "--no-progress");
        String printed = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, printed);
        assertTrue(printed.contains("RANDOM weights") && printed.contains("--model"), printed);
        assertEquals(300, ResultFiles.stats(new org.apache.flink.core.fs.Path(out.resolve("classify").toUri())).rows()
                + ResultFiles.stats(new org.apache.flink.core.fs.Path(out.resolve("classify_errors").toUri())).rows());
        assertEquals(300, ResultFiles.stats(new org.apache.flink.core.fs.Path(out.resolve("summarize").toUri())).rows()
                + ResultFiles.stats(new org.apache.flink.core.fs.Path(out.resolve("summarize_errors").toUri())).rows());
    }
}
