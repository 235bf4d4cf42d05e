package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bulk-score plans and reads Parquet inputs with non-Avro column names, INT96, unsigned and nanosecond columns. */
class BulkInputTypesTest {
    @Test
    void unusualParquetColumns(@TempDir Path tmp) throws Exception {
        MessageType a = Types.buildMessage()
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("my text")
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("my col")
                .optional(PrimitiveTypeName.INT96).named("legacy")
                .optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(32, false)).named("u32")
                .optional(PrimitiveTypeName.INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.NANOS)).named("tsn")
                .named("schema");
        MessageType b = Types.buildMessage()
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("my text")
                .optional(PrimitiveTypeName.INT96).named("legacy")
                .optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(32, false)).named("u32")
                .optional(PrimitiveTypeName.INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.NANOS)).named("tsn")
                .named("schema");
        Path dir = Files.createDirectories(tmp.resolve("in"));
        ByteBuffer int96 = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(0L).putInt(2440588 + 1);
        write(dir.resolve("a.parquet"), a, new SimpleGroupFactory(a).newGroup().append("my text", "t").append("my col", "x")
                .append("legacy", Binary.fromConstantByteArray(int96.array())).append("u32", -1).append("tsn", 1_000_000_001L));
        write(dir.resolve("b.parquet"), b, new SimpleGroupFactory(b).newGroup().append("my text", "u"));
        InputMapping mapping = InputMapping.builder().textField("my text").build();
        BulkInput in = BulkInput.inspect(new org.apache.flink.core.fs.Path(dir.toUri()), BulkScoreJob.Format.PARQUET, mapping, false);
        assertEquals(Map.of("my col", ColumnType.STRING, "legacy", ColumnType.STRING, "u32", ColumnType.LONG, "tsn", ColumnType.STRING), in.passthrough);
        ParquetInputFormat format = new ParquetInputFormat(mapping, in.parquetSchema());
        List<InputRecord> ra = FileInputs.readAll(format, dir.resolve("a.parquet"));
        assertEquals(Map.of("my col", "\"x\"", "legacy", "\"1970-01-02T00:00:00Z\"", "u32", "4294967295", "tsn", "\"1970-01-01T00:00:01.000000001Z\""), ra.get(0).passthrough);
        List<InputRecord> rb = FileInputs.readAll(format, dir.resolve("b.parquet"));
        assertEquals("u", rb.get(0).text);
        assertEquals("null", rb.get(0).passthrough.get("my col"));
    }

    static void write(Path file, MessageType schema, Group g) throws Exception {
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(schema)
                .withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            w.write(g);
        }
    }
}
