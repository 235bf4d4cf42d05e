package dev.quarry.connectors.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.ResultSchema.TaskKind;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.junit.jupiter.api.Test;

class ArrowResultsTest {

    static ResultSchema extractSchema() {
        return ResultSchema.builder(TaskKind.EXTRACT)
                .passthrough("n", ColumnType.LONG)
                .extractField("name", "string", null)
                .extractField("age", "integer", null)
                .extractField("tags", "array", "string")
                .extractField("ok", "boolean", null)
                .build();
    }

    /** Writes 2500 rows (three record batches) to {@code file}; every 10th row is an error. */
    static void writeSample(Path file) throws Exception {
        try (OutputStream os = Files.newOutputStream(file);
                ArrowResults.Writer w = ArrowResults.open(extractSchema(), os)) {
            for (int i = 0; i < 2500; i++) {
                ResultRecord r = new ResultRecord();
                r.id = "id-" + i;
                r.task = "extract";
                r.passthrough.put("n", Integer.toString(i));
                if (i % 10 == 0) {
                    r.errorKind = "schema_violation";
                    r.errorMessage = "bad " + i;
                } else {
                    r.json = "{}";
                    r.fields = Map.of("name", "\"n" + i + "\"", "age", Integer.toString(i), "tags", i % 3 == 0 ? "[\"a\",null,\"c\"]" : "[]", "ok", "true");
                }
                r.promptTokens = i;
                r.model = "m";
                w.addElement(r);
            }
        }
    }

    @Test
    void classifyMapColumnRoundTrip() throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(dir);
        Path file = dir.resolve("arrow-classify-sample.arrow");   // kept for a manual pyarrow check
        ResultSchema rs = ResultSchema.builder(TaskKind.CLASSIFY).build();
        try (OutputStream os = Files.newOutputStream(file); ArrowResults.Writer w = ArrowResults.open(rs, os)) {
            for (int i = 0; i < 5; i++) {
                ResultRecord r = new ResultRecord();
                r.id = "c" + i;
                r.task = "classify";
                if (i == 2) {
                    r.errorKind = "timeout";
                } else {
                    r.label = "pos";
                    r.probabilities = new java.util.LinkedHashMap<>(Map.of("pos", 0.7, "neg", 0.3));
                }
                w.addElement(r);
            }
        }
        try (RootAllocator a = new RootAllocator(); ArrowFileReader reader = new ArrowFileReader(Files.newByteChannel(file), a)) {
            reader.loadNextBatch();
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            assertEquals(5, root.getRowCount());
            assertTrue(root.getVector("probabilities").isNull(2));
            assertEquals(2, ((List<?>) root.getVector("probabilities").getObject(3)).size());
        }
    }

    @Test
    void javaRoundTrip() throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(dir);
        Path file = dir.resolve("arrow-results-sample.arrow");   // kept for a manual pyarrow check
        writeSample(file);
        int rows = 0;
        try (RootAllocator a = new RootAllocator();
                ArrowFileReader reader = new ArrowFileReader(Files.newByteChannel(file), a)) {
            assertEquals(List.of("n", "id", "task", "json", "name", "age", "tags", "ok", "error_kind", "error_message",
                            "prompt_tokens", "generated_tokens", "latency_ms", "model", "model_hash", "decoding", "source"),
                    reader.getVectorSchemaRoot().getSchema().getFields().stream().map(f -> f.getName()).toList());
            int batches = 0;
            while (reader.loadNextBatch()) {
                batches++;
                VectorSchemaRoot root = reader.getVectorSchemaRoot();
                for (int i = 0; i < root.getRowCount(); i++, rows++) {
                    assertEquals("id-" + rows, root.getVector("id").getObject(i).toString());
                    assertEquals((long) rows, root.getVector("n").getObject(i));
                    if (rows % 10 == 0) {
                        assertEquals("schema_violation", root.getVector("error_kind").getObject(i).toString());
                        assertTrue(root.getVector("age").isNull(i));
                        assertTrue(root.getVector("tags").isNull(i));
                    } else {
                        assertEquals((long) rows, root.getVector("age").getObject(i));
                        List<?> tags = (List<?>) root.getVector("tags").getObject(i);
                        assertEquals(rows % 3 == 0 ? 3 : 0, tags.size());
                        assertEquals(true, root.getVector("ok").getObject(i));
                    }
                }
            }
            assertEquals(3, batches);
        }
        assertEquals(2500, rows);
    }
}
