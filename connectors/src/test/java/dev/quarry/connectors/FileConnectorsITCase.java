package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.arrow.ArrowResults;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import dev.quarry.connectors.parquet.ParquetResults;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.util.Text;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class FileConnectorsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    static final Schema INPUT = SchemaBuilder.record("row").fields()
            .requiredString("id").optionalString("text").requiredLong("n").requiredString("extra").endRecord();

    /** A fake classifier: label by text length parity. */
    static final class FakeClassify implements MapFunction<InputRecord, ResultRecord> {
        @Override
        public ResultRecord map(InputRecord in) {
            if (!in.isValid()) return ResultRecord.invalid(in, "classify");
            ResultRecord r = ResultRecord.carry(in, "classify");
            boolean even = in.text.length() % 2 == 0;
            r.label = even ? "even" : "odd";
            r.probabilities = new LinkedHashMap<>(Map.of("even", even ? 0.9 : 0.1, "odd", even ? 0.1 : 0.9));
            r.promptTokens = in.text.length();
            r.model = "fake";
            return r;
        }
    }

    @Test
    void parquetInParquetAndArrowOutWithTypedColumns(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        List<GenericRecord> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            GenericData.Record g = new GenericData.Record(INPUT);
            g.put("id", "r" + i);
            g.put("text", i == 7 ? null : "text number " + i);
            g.put("n", (long) i * 10);
            g.put("extra", "unused");
            rows.add(g);
        }
        ParquetFiles.writeLocal(in.resolve("a.parquet"), INPUT, rows.subList(0, 25));
        ParquetFiles.writeLocal(in.resolve("b.parquet"), INPUT, rows.subList(25, 40));
        org.apache.flink.core.fs.Path inPath = new org.apache.flink.core.fs.Path(in.toUri());
        assertEquals(40, ParquetFiles.countRows(inPath));

        InputMapping mapping = InputMapping.builder().idField("id").textField("text").passthroughFields(List.of("n")).build();
        Schema fileSchema = ParquetFiles.readSchema(inPath);
        ParquetInputFormat format = new ParquetInputFormat(mapping, fileSchema);
        assertEquals(List.of("id", "text", "n"), format.projection().getFields().stream().map(Schema.Field::name).toList());

        ResultSchema rs = ResultSchema.builder(TaskKind.CLASSIFY).passthroughFrom(fileSchema, List.of("n")).build();
        Path outParquet = tmp.resolve("out-parquet");
        Path outArrow = tmp.resolve("out-arrow");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(200);
        DataStream<ResultRecord> results = env.fromSource(FileSourceFactory.of(format, inPath), WatermarkStrategy.noWatermarks(), "parquet-in")
                .map(new FakeClassify());
        results.sinkTo(ParquetResults.sink(new org.apache.flink.core.fs.Path(outParquet.toUri()), rs));
        results.sinkTo(ArrowResults.sink(new org.apache.flink.core.fs.Path(outArrow.toUri()), rs));
        env.execute("parquet-roundtrip");

        List<GenericRecord> out = ParquetFiles.readLocal(outParquet);
        assertEquals(40, out.size());
        Map<String, GenericRecord> byId = new HashMap<>();
        for (GenericRecord g : out) byId.put(g.get("id").toString(), g);
        assertEquals(40, byId.size());
        GenericRecord r3 = byId.get("r3");
        assertEquals(30L, r3.get("n"));
        assertEquals("odd", r3.get("label").toString());   // "text number 3": 13 chars
        assertEquals("even", byId.get("r10").get("label").toString());
        GenericRecord bad = byId.get("r7");
        assertEquals("invalid_record", bad.get("error_kind").toString());
        assertTrue(bad.get("error_message").toString().contains("'text' is null"));
        assertNull(bad.get("label"));
        assertNull(out.get(0).getSchema().getField("extra"), "unprojected columns must not reach the output");
        @SuppressWarnings("unchecked")
        Map<Object, Object> probs = (Map<Object, Object>) r3.get("probabilities");
        assertEquals(0.9, probs.get(new org.apache.avro.util.Utf8("odd")));

        // Arrow output: same rows and typed columns
        int arrowRows = 0;
        try (Stream<Path> files = Files.list(outArrow)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".arrow")).toList()) {
                try (RootAllocator a = new RootAllocator();
                        ArrowFileReader reader = new ArrowFileReader(Files.newByteChannel(f), a)) {
                    while (reader.loadNextBatch()) {
                        VectorSchemaRoot root = reader.getVectorSchemaRoot();
                        for (int i = 0; i < root.getRowCount(); i++) {
                            arrowRows++;
                            String id = root.getVector("id").getObject(i).toString();
                            BigIntVector n = (BigIntVector) root.getVector("n");
                            assertEquals(Long.parseLong(id.substring(1)) * 10, n.get(i));
                            MapVector m = (MapVector) root.getVector("probabilities");
                            if (id.equals("r7")) {
                                assertTrue(m.isNull(i));
                                assertEquals("invalid_record", root.getVector("error_kind").getObject(i).toString());
                            } else {
                                assertEquals(2, ((List<?>) m.getObject(i)).size());
                            }
                        }
                    }
                }
            }
        }
        assertEquals(40, arrowRows);
    }

    @Test
    void arrowInput(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("in.arrow");
        try (RootAllocator a = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(new org.apache.arrow.vector.types.pojo.Schema(List.of(
                        new Field("doc_id", FieldType.nullable(new ArrowType.Int(64, true)), null),
                        new Field("body", FieldType.nullable(ArrowType.Utf8.INSTANCE), null))), a);
                OutputStream os = Files.newOutputStream(file);
                ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(os))) {
            w.start();
            for (int batch = 0; batch < 3; batch++) {
                root.allocateNew();
                BigIntVector id = (BigIntVector) root.getVector("doc_id");
                VarCharVector body = (VarCharVector) root.getVector("body");
                for (int i = 0; i < 10; i++) {
                    id.setSafe(i, batch * 10L + i);
                    if (i == 5 && batch == 1) body.setNull(i);
                    else body.setSafe(i, new Text("doc " + (batch * 10 + i)));
                }
                root.setRowCount(10);
                w.writeBatch();
            }
            w.end();
        }
        org.apache.flink.core.fs.Path p = new org.apache.flink.core.fs.Path(file.toUri());
        assertEquals(30, ArrowInputFormat.countRows(p));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        InputMapping mapping = InputMapping.builder().idField("doc_id").textField("body").build();
        List<InputRecord> got = new ArrayList<>();
        try (CloseableIterator<InputRecord> it = env.fromSource(ArrowInputFormat.source(mapping, p), WatermarkStrategy.noWatermarks(), "arrow-in").executeAndCollect()) {
            it.forEachRemaining(got::add);
        }
        assertEquals(30, got.size());
        InputRecord r12 = got.stream().filter(r -> "12".equals(r.id)).findFirst().orElseThrow();
        assertEquals("doc 12", r12.text);
        assertEquals(12L, r12.sourceRow);
        InputRecord r15 = got.stream().filter(r -> "15".equals(r.id)).findFirst().orElseThrow();
        assertTrue(r15.invalidReason.startsWith("missing_text_field"));
    }
}
