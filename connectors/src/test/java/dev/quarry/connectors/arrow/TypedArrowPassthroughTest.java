package dev.quarry.connectors.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultSchema.ColumnType;
import java.math.BigDecimal;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DateMilliVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeMicroVector;
import org.apache.arrow.vector.TimeMilliVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.TimeStampMilliVector;
import org.apache.arrow.vector.TimeStampNanoTZVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.util.Text;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Arrow decimal, date, time and timestamp input columns pass through as strings (plain decimal, ISO-8601). */
class TypedArrowPassthroughTest {
    static final Instant WHEN = Instant.parse("2024-02-29T13:45:30.123456789Z");

    @Test
    void decimalsDatesTimesAndTimestampsPassThroughAsStrings(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("typed.arrow");
        long nanos = ChronoUnit.NANOS.between(Instant.EPOCH, WHEN);
        try (BufferAllocator a = new RootAllocator()) {
            List<FieldVector> vs = new ArrayList<>();
            VarCharVector text = new VarCharVector("text", a);
            text.allocateNew();
            text.setSafe(0, new Text("a"));
            text.setSafe(1, new Text("b"));
            vs.add(text);
            DecimalVector dec = new DecimalVector("dec", a, 20, 4);
            dec.allocateNew();
            dec.set(0, new BigDecimal("-1234567890123.4567"));
            vs.add(dec);
            DateDayVector day = new DateDayVector("day", a);
            day.allocateNew();
            day.set(0, (int) LocalDate.of(2024, 2, 29).toEpochDay());
            vs.add(day);
            DateMilliVector dayMs = new DateMilliVector("day_ms", a);
            dayMs.allocateNew();
            dayMs.set(0, LocalDate.of(2024, 2, 29).toEpochDay() * 86_400_000L);
            vs.add(dayMs);
            TimeMilliVector tms = new TimeMilliVector("t_ms", a);
            tms.allocateNew();
            tms.set(0, (int) (LocalTime.of(13, 45, 30, 123_000_000).toNanoOfDay() / 1_000_000));
            vs.add(tms);
            TimeMicroVector tus = new TimeMicroVector("t_us", a);
            tus.allocateNew();
            tus.set(0, LocalTime.of(13, 45, 0).toNanoOfDay() / 1000);
            vs.add(tus);
            TimeStampMicroTZVector tsUtc = new TimeStampMicroTZVector("ts_utc", a, "UTC");
            tsUtc.allocateNew();
            tsUtc.set(0, nanos / 1000);
            vs.add(tsUtc);
            TimeStampNanoTZVector tsNs = new TimeStampNanoTZVector("ts_ns", a, "+02:00");
            tsNs.allocateNew();
            tsNs.set(0, nanos);
            vs.add(tsNs);
            TimeStampMilliVector tsLocal = new TimeStampMilliVector("ts_local", a);
            tsLocal.allocateNew();
            tsLocal.set(0, nanos / 1_000_000);
            vs.add(tsLocal);
            for (FieldVector v : vs) {
                if (v != text) v.setNull(1);
                v.setValueCount(2);
            }
            try (VectorSchemaRoot root = new VectorSchemaRoot(vs);
                    var out = Files.newOutputStream(file);
                    ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
                root.setRowCount(2);
                w.start();
                w.writeBatch();
                w.end();
            }
        }
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("dec", "-1234567890123.4567");
        expected.put("day", "2024-02-29");
        expected.put("day_ms", "2024-02-29");
        expected.put("t_ms", "13:45:30.123");
        expected.put("t_us", "13:45:00");
        expected.put("ts_utc", "2024-02-29T13:45:30.123456Z");
        expected.put("ts_ns", "2024-02-29T13:45:30.123456789Z");
        expected.put("ts_local", "2024-02-29T13:45:30.123");

        var schema = ArrowInputFormat.readSchema(new org.apache.flink.core.fs.Path(file.toUri()));
        for (String c : expected.keySet()) assertEquals(ColumnType.STRING, ArrowSchemas.columnType(schema.findField(c)), c);
        List<InputRecord> rows = FileInputs.readAll(new ArrowInputFormat(InputMapping.defaults()), file);
        assertEquals(2, rows.size());
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals('"' + e.getValue() + '"', rows.get(0).passthrough.get(e.getKey()), e.getKey());
            assertEquals("null", rows.get(1).passthrough.get(e.getKey()), e.getKey());
        }
    }
}
