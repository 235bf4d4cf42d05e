package dev.quarry.connectors.parquet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.arrow.ArrowResults;
import dev.quarry.connectors.arrow.ArrowSchemas;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.util.Text;
import org.apache.avro.Schema;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input column names that are not Avro names ("my col", "1st", "a-b", as pandas/pyarrow write them) work as
 * id, text and passthrough columns, and pass through to Parquet and Arrow results under Avro-safe names.
 */
class NonAvroColumnNamesTest {
    static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("doc-id")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("my text")
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("my col")
            .optional(PrimitiveTypeName.INT64).named("1st")
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("a-b")
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("a_b")
            .named("row");

    /** Output column name -> value, for the first row. */
    static final Map<String, Object> EXPECTED = new LinkedHashMap<>();

    static {
        EXPECTED.put("my_col", "x");
        EXPECTED.put("_1st", 7L);
        EXPECTED.put("a_b", "dash");          // "a-b", first in the file, takes the sanitized name
        EXPECTED.put("input_a_b", "under");   // the real "a_b" then clashes and gets the prefix
    }

    @Test
    void parquetInputWithNonAvroNames(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("names.parquet");
        SimpleGroupFactory f = new SimpleGroupFactory(SCHEMA);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(in)).withType(SCHEMA)
                .withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            w.write(f.newGroup().append("doc-id", "d0").append("my text", "hello").append("my col", "x").append("1st", 7L)
                    .append("a-b", "dash").append("a_b", "under"));
        }
        InputMapping mapping = InputMapping.builder().idField("doc-id").textField("my text").build();
        Schema fileSchema = ParquetFiles.readSchema(new org.apache.flink.core.fs.Path(in.toUri()));
        assertEquals(List.of("my col", "1st", "a-b", "a_b"), ParquetInputFormat.passthroughColumns(mapping, fileSchema));
        ResultSchema rs = ResultSchema.builder(TaskKind.PROMPT)
                .passthroughFrom(fileSchema, ParquetInputFormat.passthroughColumns(mapping, fileSchema)).build();
        assertEquals(ColumnType.LONG, rs.passthrough().get(1).type());

        List<InputRecord> rows = FileInputs.readAll(new ParquetInputFormat(mapping, fileSchema), in);
        assertEquals(1, rows.size());
        assertNull(rows.get(0).invalidReason, rows.get(0).invalidReason);
        assertEquals("d0", rows.get(0).id);
        assertEquals("hello", rows.get(0).text);
        assertEquals(Map.of("my col", "\"x\"", "1st", "7", "a-b", "\"dash\"", "a_b", "\"under\""), rows.get(0).passthrough);
        checkResults(tmp, rs, rows);
    }

    @Test
    void aColumnWithNoAvroFormIsNamed(@TempDir Path tmp) throws Exception {
        MessageType schema = Types.buildMessage()
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("text")
                .optionalMap().key(PrimitiveTypeName.INT32).optionalValue(PrimitiveTypeName.INT32).named("int keyed")
                .named("row");
        Path in = tmp.resolve("intmap.parquet");
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(in)).withType(schema)
                .withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            w.write(new SimpleGroupFactory(schema).newGroup().append("text", "t"));
        }
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ParquetFiles.readSchema(new org.apache.flink.core.fs.Path(in.toUri())));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("column 'int keyed'") && e.getMessage().contains("intmap.parquet"), e.getMessage());
    }

    @Test
    void arrowInputWithNonAvroNames(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("names.arrow");
        try (BufferAllocator a = new RootAllocator()) {
            VarCharVector text = strings("my text", a, "hello");
            VarCharVector col = strings("my col", a, "x");
            BigIntVector first = new BigIntVector("1st", a);
            first.allocateNew(1);
            first.set(0, 7L);
            first.setValueCount(1);
            VarCharVector dash = strings("a-b", a, "dash");
            VarCharVector under = strings("a_b", a, "under");
            try (VectorSchemaRoot root = new VectorSchemaRoot(List.<FieldVector>of(text, col, first, dash, under));
                    var out = Files.newOutputStream(in);
                    ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
                root.setRowCount(1);
                w.start();
                w.writeBatch();
                w.end();
            }
        }
        InputMapping mapping = InputMapping.builder().textField("my text").build();
        var schema = ArrowInputFormat.readSchema(new org.apache.flink.core.fs.Path(in.toUri()));
        ResultSchema.Builder b = ResultSchema.builder(TaskKind.PROMPT);
        for (var field : schema.getFields()) if (mapping.passes(field.getName())) b.passthrough(field.getName(), ArrowSchemas.columnType(field));
        ResultSchema rs = b.build();
        List<InputRecord> rows = FileInputs.readAll(new ArrowInputFormat(mapping), in);
        assertEquals("hello", rows.get(0).text);
        checkResults(tmp, rs, rows);
    }

    static VarCharVector strings(String name, BufferAllocator a, String value) {
        VarCharVector v = new VarCharVector(name, a);
        v.allocateNew();
        v.setSafe(0, new Text(value));
        v.setValueCount(1);
        return v;
    }

    static void checkResults(Path tmp, ResultSchema rs, List<InputRecord> rows) throws Exception {
        Path outParquet = tmp.resolve("out.parquet");
        Path outArrow = tmp.resolve("out.arrow");
        TypedPassthroughTest.writeResults(ParquetResults.writerFactory(rs), outParquet, rows);
        TypedPassthroughTest.writeResults(ArrowResults.writerFactory(rs), outArrow, rows);
        for (Path out : List.of(outParquet, outArrow)) {
            Map<String, Object> back = ResultFiles.read(new org.apache.flink.core.fs.Path(out.toUri()), 10).get(0);
            for (Map.Entry<String, Object> e : EXPECTED.entrySet()) assertEquals(e.getValue(), back.get(e.getKey()), out + " " + e.getKey());
        }
    }
}
