package dev.quarry.connectors.parquet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.arrow.ArrowResults;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decimal, date, time, timestamp (millis to nanos), legacy INT96, UUID and JSON Parquet columns pass through to the results as their
 * string renderings (plain decimal, ISO-8601), in the InputRecord and in Parquet and Arrow result files.
 */
class TypedPassthroughTest {
    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message row {
              required binary text (STRING);
              optional binary dec (DECIMAL(9,2));
              optional fixed_len_byte_array(9) decfixed (DECIMAL(20,4));
              optional int32 dec32 (DECIMAL(5,2));
              optional int64 dec64 (DECIMAL(15,3));
              optional int32 d (DATE);
              optional int32 tmillis (TIME(MILLIS,true));
              optional int64 tmicros (TIME(MICROS,true));
              optional int64 tsmillis (TIMESTAMP(MILLIS,true));
              optional int64 tsmicros (TIMESTAMP(MICROS,true));
              optional int64 lts (TIMESTAMP(MICROS,false));
              optional int96 legacy;
              optional int64 tsnanos (TIMESTAMP(NANOS,true));
              optional int64 ltsnanos (TIMESTAMP(NANOS,false));
              optional int64 tnanos (TIME(NANOS,true));
              optional fixed_len_byte_array(16) uid (UUID);
              optional binary js (JSON);
            }
            """);

    static final Instant WHEN = Instant.parse("2024-02-29T13:45:30.123456789Z");

    /** Impala/Spark INT96: nanoseconds of the day (8 bytes) then the Julian day (4 bytes), little-endian. */
    static Binary int96(Instant t) {
        LocalDateTime utc = LocalDateTime.ofInstant(t, ZoneOffset.UTC);
        long julianDay = utc.toLocalDate().toEpochDay() + 2440588L;
        long nanosOfDay = utc.toLocalTime().toNanoOfDay();
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(nanosOfDay).putInt((int) julianDay);
        return Binary.fromConstantByteArray(b.array());
    }

    static Binary fixed(BigInteger unscaled, int len) {
        byte[] raw = unscaled.toByteArray();
        byte[] out = new byte[len];
        java.util.Arrays.fill(out, (byte) (unscaled.signum() < 0 ? 0xFF : 0));
        System.arraycopy(raw, 0, out, len - raw.length, raw.length);
        return Binary.fromConstantByteArray(out);
    }

    static void write(Path file) throws Exception {
        SimpleGroupFactory f = new SimpleGroupFactory(SCHEMA);
        long micros = ChronoUnit.MICROS.between(Instant.EPOCH, WHEN);
        long nanos = ChronoUnit.NANOS.between(Instant.EPOCH, WHEN);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA)
                .withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            Group g = f.newGroup()
                    .append("text", "a")
                    .append("dec", Binary.fromConstantByteArray(new BigDecimal("12.34").unscaledValue().toByteArray()))
                    .append("decfixed", fixed(new BigDecimal("-1234567890123.4567").unscaledValue(), 9))
                    .append("dec32", -105)
                    .append("dec64", 123456789012345L)
                    .append("d", (int) LocalDate.of(2024, 2, 29).toEpochDay())
                    .append("tmillis", (int) (LocalTime.of(13, 45, 30, 123_000_000).toNanoOfDay() / 1_000_000))
                    .append("tmicros", LocalTime.of(13, 45, 30, 123_456_000).toNanoOfDay() / 1000)
                    .append("tsmillis", WHEN.toEpochMilli())
                    .append("tsmicros", micros)
                    .append("lts", micros)
                    .append("legacy", int96(WHEN))
                    .append("tsnanos", nanos)
                    .append("ltsnanos", nanos)
                    .append("tnanos", LocalTime.of(13, 45, 30, 123_456_789).toNanoOfDay())
                    .append("uid", Binary.fromConstantByteArray(java.util.HexFormat.of().parseHex("0123456789abcdeffedcba9876543210")))
                    .append("js", "{\"a\": [1, \"é\"]}");
            w.write(g);
            w.write(f.newGroup().append("text", "b"));   // all nulls
        }
    }

    static final Map<String, String> EXPECTED = new LinkedHashMap<>();

    static {
        EXPECTED.put("dec", "12.34");
        EXPECTED.put("decfixed", "-1234567890123.4567");
        EXPECTED.put("dec32", "-1.05");
        EXPECTED.put("dec64", "123456789012.345");
        EXPECTED.put("d", "2024-02-29");
        EXPECTED.put("tmillis", "13:45:30.123");
        EXPECTED.put("tmicros", "13:45:30.123456");
        EXPECTED.put("tsmillis", "2024-02-29T13:45:30.123Z");
        EXPECTED.put("tsmicros", "2024-02-29T13:45:30.123456Z");
        EXPECTED.put("lts", "2024-02-29T13:45:30.123456");
        EXPECTED.put("legacy", "2024-02-29T13:45:30.123456789Z");
        EXPECTED.put("tsnanos", "2024-02-29T13:45:30.123456789Z");
        EXPECTED.put("ltsnanos", "2024-02-29T13:45:30.123456789");
        EXPECTED.put("tnanos", "13:45:30.123456789");
        EXPECTED.put("uid", "01234567-89ab-cdef-fedc-ba9876543210");
        EXPECTED.put("js", "{\"a\": [1, \"é\"]}");
    }

    @Test
    void decimalsDatesTimesTimestampsAndInt96PassThroughAsStrings(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("typed.parquet");
        write(in);
        Schema fileSchema = ParquetFiles.readSchema(new org.apache.flink.core.fs.Path(in.toUri()));
        InputMapping mapping = InputMapping.defaults();
        ResultSchema rs = ResultSchema.builder(TaskKind.PROMPT)
                .passthroughFrom(fileSchema, ParquetInputFormat.passthroughColumns(mapping, fileSchema)).build();
        assertEquals(EXPECTED.size(), rs.passthrough().size());
        for (ResultSchema.Column c : rs.passthrough()) assertEquals(ColumnType.STRING, c.type(), c.toString());

        List<InputRecord> rows = FileInputs.readAll(new ParquetInputFormat(mapping, fileSchema), in);
        assertEquals(2, rows.size());
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            assertEquals(dev.quarry.connectors.Json.encode(e.getValue()), rows.get(0).passthrough.get(e.getKey()), e.getKey());
            assertEquals("null", rows.get(1).passthrough.get(e.getKey()), e.getKey());
        }

        Path outParquet = tmp.resolve("out.parquet");
        Path outArrow = tmp.resolve("out.arrow");
        writeResults(ParquetResults.writerFactory(rs), outParquet, rows);
        writeResults(ArrowResults.writerFactory(rs), outArrow, rows);
        for (Path out : List.of(outParquet, outArrow)) {
            List<Map<String, Object>> back = ResultFiles.read(new org.apache.flink.core.fs.Path(out.toUri()), 10);
            assertEquals(2, back.size());
            for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
                assertEquals(e.getValue(), back.get(0).get(e.getKey()), out + " " + e.getKey());
                assertNull(back.get(1).get(e.getKey()), out + " " + e.getKey());
            }
        }
    }

    static void writeResults(BulkWriter.Factory<ResultRecord> factory, Path file, List<InputRecord> rows) throws Exception {
        try (FSDataOutputStream os = FileSystem.getLocalFileSystem().create(new org.apache.flink.core.fs.Path(file.toUri()), FileSystem.WriteMode.OVERWRITE)) {
            BulkWriter<ResultRecord> w = factory.create(os);
            for (InputRecord r : rows) {
                ResultRecord out = ResultRecord.carry(r, "prompt");
                out.text = "x";
                w.addElement(out);
            }
            w.finish();
        }
    }
}
