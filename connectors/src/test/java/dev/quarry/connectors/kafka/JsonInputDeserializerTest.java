package dev.quarry.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonInputDeserializerTest {
    private final JsonInputDeserializer d = new JsonInputDeserializer(InputMapping.defaults());

    private InputRecord parse(String s) {
        return parse(s.getBytes(StandardCharsets.UTF_8));
    }

    private InputRecord parse(byte[] b) {
        return d.parse("in", 2, 17, new byte[] {'k'}, b, Map.of("h", new byte[] {1}));
    }

    @Test
    void validRecordKeepsIdTextPassthroughKeyHeaders() {
        InputRecord r = parse("{\"id\":\"a1\",\"text\":\"hello\",\"n\":3,\"tags\":[\"x\"],\"s\":\"str\"}");
        assertNull(r.invalidReason);
        assertEquals("a1", r.id);
        assertEquals("hello", r.text);
        assertEquals(Map.of("n", "3", "tags", "[\"x\"]", "s", "\"str\""), r.passthrough);
        assertArrayEquals(new byte[] {'k'}, r.key);
        assertEquals(1, r.headers.get("h")[0]);
        assertEquals("in-2@17", r.sourceDescription());
    }

    @Test
    void numericIdAndFallbackId() {
        assertEquals("42", parse("{\"id\":42,\"text\":\"t\"}").id);
        assertEquals("in-2-17", parse("{\"text\":\"t\"}").id);
    }

    @Test
    void listedPassthroughAndCustomFields() {
        JsonInputDeserializer custom = new JsonInputDeserializer(InputMapping.builder()
                .idField("key").textField("body").passthroughFields(List.of("a")).build());
        InputRecord r = custom.parse("t", 0, 0, null, "{\"key\":\"K\",\"body\":\"b\",\"a\":1,\"b\":2}".getBytes(StandardCharsets.UTF_8), null);
        assertEquals("K", r.id);
        assertEquals("b", r.text);
        assertEquals(Map.of("a", "1"), r.passthrough);
    }

    @Test
    void badRecordsBecomeInvalidWithReasonAndRawBytes() {
        assertReason("{not json", "invalid_json");
        assertReason("[1,2]", "not_an_object");
        assertReason("{\"id\":\"x\"}", "missing_text_field");
        assertReason("{\"text\":null}", "missing_text_field");
        assertReason("{\"text\":12}", "wrong_type");
        assertReason("{\"text\":\"t\",\"id\":{\"a\":1}}", "wrong_type");
        byte[] badUtf8 = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        InputRecord r = parse(badUtf8);
        assertTrue(r.invalidReason.startsWith("invalid_utf8"), r.invalidReason);
        assertArrayEquals(badUtf8, r.raw);
        InputRecord tomb = parse((byte[]) null);
        assertTrue(tomb.invalidReason.startsWith("null_value"));
    }

    @Test
    void emptyTextIsPassedOnForTheEngine() {
        InputRecord r = parse("{\"id\":\"e\",\"text\":\"\"}");
        assertNull(r.invalidReason);
        assertEquals("", r.text);
    }

    @Test
    void trailingContentAfterTheObjectIsInvalid() {
        assertReason("{\"id\":1,\"text\":\"a\"} junk", "invalid_json");
        assertReason("{\"id\":1,\"text\":\"a\"}{\"id\":2,\"text\":\"b\"}", "invalid_json");
        InputRecord r = parse("{\"id\":1,\"text\":\"a\"} junk");
        assertTrue(r.invalidReason.contains("trailing"), r.invalidReason);
        assertEquals("in-2@17", r.sourceDescription());
        // trailing whitespace (a line's CR LF) is fine
        assertNull(parse("{\"id\":1,\"text\":\"a\"} \r\n").invalidReason);
    }

    @Test
    void manyDigitNumbersKeepEveryDigit() {
        InputRecord r = parse("{\"id\":12345678901234567890,\"text\":\"t\",\"big\":123456789012345678901234567890,"
                + "\"dec\":0.12345678901234567890123,\"z\":1.50,\"n\":[3.14159265358979323846264]}");
        assertNull(r.invalidReason);
        assertEquals("12345678901234567890", r.id);
        assertEquals("123456789012345678901234567890", r.passthrough.get("big"));
        assertEquals("0.12345678901234567890123", r.passthrough.get("dec"));
        assertEquals("1.50", r.passthrough.get("z"));
        assertEquals("[3.14159265358979323846264]", r.passthrough.get("n"));
        assertEquals("1.00000000000000000001", parse("{\"id\":1.00000000000000000001,\"text\":\"t\"}").id);
        // and on the way out (Kafka result JSON)
        dev.quarry.connectors.ResultRecord out = new dev.quarry.connectors.ResultRecord();
        out.id = r.id;
        out.passthrough.putAll(r.passthrough);
        String json = new String(ResultJson.toBytes(out), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"dec\":0.12345678901234567890123") && json.contains("\"big\":123456789012345678901234567890"), json);
    }

    @Test
    void utf8BomIsTolerated() {
        byte[] json = "{\"id\":\"b\",\"text\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[json.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(json, 0, withBom, 3, json.length);
        InputRecord r = parse(withBom);
        assertNull(r.invalidReason, r.invalidReason);
        assertEquals("b", r.id);
        assertEquals("hi", r.text);
    }

    private void assertReason(String json, String code) {
        InputRecord r = parse(json);
        assertTrue(r.invalidReason != null && r.invalidReason.startsWith(code), json + " -> " + r.invalidReason);
        assertArrayEquals(json.getBytes(StandardCharsets.UTF_8), r.raw);
        assertNull(r.text);
    }

    @Test
    void transactionTimeoutCheck() {
        QuarryKafka.checkTransactionTimeout(Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofMinutes(2));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> QuarryKafka.checkTransactionTimeout(Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(45)));
        assertTrue(e.getMessage().contains("transaction.timeout.ms=60000") && e.getMessage().contains("75000"), e.getMessage());
        assertEquals(Duration.ofMillis(1234), QuarryKafka.transactionTimeout(Map.of("transaction.timeout.ms", "1234")));
    }
}
