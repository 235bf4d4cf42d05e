package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.ResultSchema.TaskKind;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class ResultSchemaTest {

    @Test
    void extractColumnsAreTypedAndCollisionsPrefixed() {
        Schema input = SchemaBuilder.record("in").fields()
                .requiredString("text").optionalLong("n").requiredString("label").endRecord();
        ResultSchema rs = ResultSchema.builder(TaskKind.EXTRACT)
                .passthroughFrom(input, List.of("n", "label"))
                .extractFieldsFromJsonSchema("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
                        + "\"age\":{\"type\":\"integer\"},\"score\":{\"type\":\"number\"},\"ok\":{\"type\":\"boolean\"},"
                        + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"id\":{\"type\":\"string\"}}}")
                .build();
        Schema s = rs.avroSchema();
        assertEquals(Schema.Type.LONG, s.getField("age").schema().getTypes().get(1).getType());
        assertEquals(Schema.Type.DOUBLE, s.getField("score").schema().getTypes().get(1).getType());
        assertEquals(Schema.Type.ARRAY, s.getField("tags").schema().getTypes().get(1).getType());
        // "id" collides with the result id column, "label" with nothing in extract but is reserved
        assertEquals("field_id", rs.extractFields().get(5).name());
        assertEquals("input_label", rs.passthrough().get(1).name());
        assertEquals(ColumnType.LONG, rs.passthrough().get(0).type());

        ResultRecord r = new ResultRecord();
        r.id = "r1";
        r.task = "extract";
        r.json = "{\"name\":\"Ann\",\"age\":41}";
        r.fields = Map.of("name", "\"Ann\"", "age", "41", "score", "2.5", "ok", "true", "tags", "[\"a\",\"b\"]", "id", "\"x\"");
        r.passthrough.put("n", "12");
        r.passthrough.put("label", "\"L\"");
        GenericRecord g = rs.toAvro(r);
        assertEquals(41L, g.get("age"));
        assertEquals(2.5, g.get("score"));
        assertEquals(true, g.get("ok"));
        assertEquals(List.of("a", "b"), g.get("tags"));
        assertEquals("x", g.get("field_id"));
        assertEquals(12L, g.get("n"));
        assertEquals("L", g.get("input_label"));
        assertNull(g.get("error_kind"));
    }

    @Test
    void wrongTypedValuesBecomeNull() {
        assertNull(ResultSchema.fromJson("\"abc\"", ColumnType.LONG));
        assertNull(ResultSchema.fromJson("1.5", ColumnType.LONG));
        assertEquals(3L, ResultSchema.fromJson("3.0", ColumnType.LONG));
        // out of range for the column: null, not a wrapped-around number
        assertNull(ResultSchema.fromJson("12345678901234567890", ColumnType.LONG));
        assertNull(ResultSchema.fromJson("1e30", ColumnType.LONG));
        assertNull(ResultSchema.fromJson("3000000000", ColumnType.INT));
        assertEquals(-9223372036854775808L, ResultSchema.fromJson("-9223372036854775808", ColumnType.LONG));
        assertEquals(List.of(7L), ResultSchema.fromJson("[7]", ColumnType.LONG_ARRAY));
        assertEquals("{\"a\":1}", ResultSchema.fromJson("{\"a\":1}", ColumnType.STRING));
    }

    @Test
    void extractFieldsOnlyForExtract() {
        assertThrows(IllegalArgumentException.class,
                () -> ResultSchema.builder(TaskKind.CLASSIFY).extractField("a", "string", null).build());
        assertThrows(IllegalArgumentException.class, () -> TaskKind.parse("translate"));
    }
}
