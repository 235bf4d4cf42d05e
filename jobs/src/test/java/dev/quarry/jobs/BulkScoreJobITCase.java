package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@Timeout(180)
class BulkScoreJobITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    static final Schema INPUT = SchemaBuilder.record("doc").fields()
            .requiredString("doc_id").optionalString("body").requiredInt("stars").endRecord();

    /** n rows in two Parquet files; bad bodies: empty at i % 97 == 5, too long at i % 101 == 7, null at i % 103 == 9. */
    static Path writeInput(Path dir, int n) throws Exception {
        return writeInput(dir, n, i -> i % 97 == 5 ? "" : i % 101 == 7 ? "x".repeat(FakeEngine.MAX_CHARS + 1)
                : i % 103 == 9 ? null : "review number " + i);
    }

    /** n rows {@code d0..} in two Parquet files (d0 .. d(n/2-1), then the rest), row i's body from {@code body}. */
    static Path writeInput(Path dir, int n, IntFunction<String> body) throws Exception {
        Files.createDirectories(dir);
        List<GenericRecord> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            GenericData.Record g = new GenericData.Record(INPUT);
            g.put("doc_id", "d" + i);
            g.put("body", body.apply(i));
            g.put("stars", i % 5);
            rows.add(g);
        }
        int half = n / 2;
        ParquetFiles.writeLocal(dir.resolve("part-a.parquet"), INPUT, rows.subList(0, half));
        ParquetFiles.writeLocal(dir.resolve("part-b.parquet"), INPUT, rows.subList(half, n));
        return dir;
    }

    @Test
    void parquetToParquetWithInducedFailuresHasEachIdOnce(@TempDir Path tmp) throws Exception {
        int n = 3000;
        Path in = writeInput(tmp.resolve("in"), n);
        FakeEngine.SUBMITTED.set(0);
        FakeEngine.crashAt.set(1700);
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.CLASSIFY).labels(List.of("even", "odd"))
                .modelDir(tmp).capacity(16).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build())
                .spec(spec).parallelism(2).checkpointInterval(java.time.Duration.ofMillis(150)).restartAttempts(3).build();
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, FakeEngine.factory(), System.err, false);
        assertTrue(FakeEngine.SUBMITTED.get() > 1700 && FakeEngine.crashAt.get() == 0, "the crash was injected");
        assertEquals(n, s.inputRows());
        assertEquals(n, s.rows(), "output rows = input rows");
        Set<String> ids = new HashSet<>(ResultFiles.ids(new org.apache.flink.core.fs.Path(s.output())));
        ids.addAll(ResultFiles.ids(new org.apache.flink.core.fs.Path(s.errorsOutput())));
        assertEquals(n, ids.size(), "each id exactly once");
        Map<String, Long> errs = s.errors().errorsByKind();
        long empties = 0, longs = 0, nulls = 0;
        for (int i = 0; i < n; i++) {
            if (i % 97 == 5) empties++;
            else if (i % 101 == 7) longs++;
            else if (i % 103 == 9) nulls++;
        }
        assertEquals(empties, errs.get("empty_input"));
        assertEquals(longs, errs.get("input_too_long"));
        assertEquals(nulls, errs.get("invalid_record"));

        List<Map<String, Object>> rows = ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 10);
        Map<String, Object> r = rows.get(0);
        assertTrue(Set.of("even", "odd").contains(r.get("label")));
        assertTrue(r.get("stars") instanceof Integer, "passthrough keeps its int type");
        assertEquals("fakehash", r.get("model_hash"));
        assertTrue(!r.containsKey("body"), "the text column is not passed through by default");
        assertTrue(s.render().contains("rows:        3000 of 3000"), s.render());
    }

    @Test
    void arrowInputIsGuessedAndScored(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        ResultFiles.Stats none = ResultFiles.Stats.empty();
        // write an Arrow IPC input file with the connectors' own writer path: id + text columns
        org.apache.arrow.vector.types.pojo.Schema schema = new org.apache.arrow.vector.types.pojo.Schema(List.of(
                org.apache.arrow.vector.types.pojo.Field.nullable("doc_id", org.apache.arrow.vector.types.pojo.ArrowType.Utf8.INSTANCE),
                org.apache.arrow.vector.types.pojo.Field.nullable("body", org.apache.arrow.vector.types.pojo.ArrowType.Utf8.INSTANCE),
                org.apache.arrow.vector.types.pojo.Field.nullable("n", new org.apache.arrow.vector.types.pojo.ArrowType.Int(32, true))));
        try (var alloc = new org.apache.arrow.memory.RootAllocator();
                var root = org.apache.arrow.vector.VectorSchemaRoot.create(schema, alloc);
                var os = Files.newOutputStream(in.resolve("docs.arrow"));
                var w = new org.apache.arrow.vector.ipc.ArrowFileWriter(root, null, java.nio.channels.Channels.newChannel(os))) {
            w.start();
            root.allocateNew();
            for (int i = 0; i < 50; i++) {
                ((org.apache.arrow.vector.VarCharVector) root.getVector("doc_id")).setSafe(i, ("a" + i).getBytes());
                ((org.apache.arrow.vector.VarCharVector) root.getVector("body")).setSafe(i, ("arrow text " + i).getBytes());
                ((org.apache.arrow.vector.IntVector) root.getVector("n")).setSafe(i, i);
            }
            root.setRowCount(50);
            w.writeBatch();
            w.end();
        }
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(tmp).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec)
                .checkpointInterval(java.time.Duration.ofMillis(200)).build();
        assertEquals(BulkScoreJob.Format.ARROW, o.inputFormat);
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, FakeEngine.factory(), System.err, false);
        assertEquals(50, s.inputRows());
        assertEquals(50, s.results().plus(none).rows());
        Map<String, Object> row = ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 1).get(0);
        assertTrue(row.get("n") instanceof Integer, "Arrow int32 passthrough stays an int column: " + row);
        assertTrue(row.get("text").toString().startsWith("ARROW TEXT"), row.toString());
    }

    @Test
    void arrowOutputForExtract(@TempDir Path tmp) throws Exception {
        Path in = writeInput(tmp.resolve("in"), 300);
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.EXTRACT)
                .schemaJson("{\"type\":\"object\",\"properties\":{\"length\":{\"type\":\"integer\"}}}").modelDir(tmp).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build())
                .outputFormat(BulkScoreJob.Format.ARROW).spec(spec).checkpointInterval(java.time.Duration.ofMillis(200)).build();
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, FakeEngine.factory(), System.err, true);
        assertEquals(300, s.rows());
        Map<String, Object> row = ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 1).get(0);
        assertTrue(row.get("length") instanceof Long, "extract field is a typed int64 column: " + row);
        assertTrue(Files.list(tmp.resolve("out")).allMatch(p -> p.getFileName().toString().endsWith(".arrow")));
    }

    @Test
    void filesWithDifferentColumnsGiveTheUnionOfColumnsWithNullsWhereAFileLacksOne(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        Schema a = SchemaBuilder.record("doc").fields().requiredString("doc_id").optionalString("body").requiredInt("stars").endRecord();
        Schema b = SchemaBuilder.record("doc").fields().requiredString("doc_id").requiredString("lang").optionalString("body").endRecord();
        List<GenericRecord> ra = new ArrayList<>(), rb = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            GenericData.Record g = new GenericData.Record(a);
            g.put("doc_id", "a" + i);
            g.put("body", "first " + i);
            g.put("stars", i);
            ra.add(g);
            GenericData.Record h = new GenericData.Record(b);
            h.put("doc_id", "b" + i);
            h.put("body", "second " + i);
            h.put("lang", "en" + i);
            rb.add(h);
        }
        ParquetFiles.writeLocal(in.resolve("part-a.parquet"), a, ra);
        ParquetFiles.writeLocal(in.resolve("part-b.parquet"), b, rb);
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(tmp).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec)
                .checkpointInterval(java.time.Duration.ofMillis(200)).build();
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, FakeEngine.factory(), System.err, false);
        assertEquals(40, s.results().rows(), s.render());
        assertEquals(0, s.errors().rows(), s.render());
        List<Map<String, Object>> rows = ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 100);
        assertEquals(40, rows.size());
        for (Map<String, Object> r : rows) {
            String id = r.get("id").toString();
            int i = Integer.parseInt(id.substring(1));
            assertTrue(r.containsKey("stars") && r.containsKey("lang"), "every row has the union of the columns: " + r);
            if (id.startsWith("a")) {
                assertEquals(i, r.get("stars"), r.toString());
                assertEquals(null, r.get("lang"), r.toString());
                assertEquals("FIRST " + i, r.get("text"), r.toString());
            } else {
                assertEquals(null, r.get("stars"), r.toString());
                assertEquals("en" + i, String.valueOf(r.get("lang")), r.toString());
                assertEquals("SECOND " + i, r.get("text"), r.toString());
            }
        }
    }

    @Test
    void hiddenFilesAndFoldersAreSkippedButAnInputNamedExplicitlyIsRead(@TempDir Path tmp) throws Exception {
        // a Spark/Hadoop-style output directory whose own name starts with '_'
        Path in = writeInput(tmp.resolve("_export"), 40, i -> "doc " + i);   // part-a (20 rows), part-b (20 rows)
        Files.createFile(in.resolve("_SUCCESS"));
        Files.write(in.resolve(".part-a.parquet.crc"), new byte[] {1, 2, 3});
        writeInput(in.resolve("_temporary").resolve("0"), 6, i -> "temporary " + i);
        writeInput(in.resolve(".staging"), 8, i -> "staging " + i);
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(tmp).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec)
                .checkpointInterval(java.time.Duration.ofMillis(200)).build();
        assertEquals(List.of("part-a.parquet", "part-b.parquet"),
                o.inputFiles.paths().stream().map(org.apache.flink.core.fs.Path::getName).toList());
        BulkScoreRunner.Summary s = BulkScoreRunner.run(o, FakeEngine.factory(), System.err, false);
        assertEquals(40, s.inputRows());
        assertEquals(40, s.results().rows(), s.render());
        assertTrue(ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 100).stream()
                .allMatch(r -> r.get("text").toString().startsWith("DOC ")), "nothing read from hidden files");

        // one file named explicitly, although its name starts with '_'
        Path hidden = Files.copy(in.resolve("_temporary").resolve("0").resolve("part-b.parquet"), tmp.resolve("_sample.parquet"));
        BulkScoreJob.Options one = BulkScoreJob.Options.builder().input(hidden.toString()).output(tmp.resolve("out1").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec)
                .checkpointInterval(java.time.Duration.ofMillis(200)).build();
        BulkScoreRunner.Summary s1 = BulkScoreRunner.run(one, FakeEngine.factory(), System.err, false);
        assertEquals(3, s1.inputRows());
        assertEquals(3, s1.results().rows(), s1.render());
    }

    @Test
    void withoutATerminalProgressIsPlainLines(@TempDir Path tmp) throws Exception {
        Path in = writeInput(tmp.resolve("in"), 40, i -> "review number " + i);
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(tmp).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec).parallelism(1).build();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        BulkScoreRunner.run(o, FakeEngine.factory(), new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8),
                BulkScoreRunner.ProgressDisplay.LINES);
        String out = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(!out.contains("\r"), "no carriage returns in a log: " + out);
        String[] lines = out.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("scoring: 40/40 rows (100%)"), out);
    }
}
