package dev.quarry.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultRecord;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Results and dead letters that would not fit the producer's max.request.size. */
class ResultSerializerTest {
    static ResultRecord result(String id, int passthroughChars) {
        ResultRecord r = new ResultRecord();
        r.id = id;
        r.task = "summarize";
        r.text = "short";
        r.key = id.getBytes(StandardCharsets.UTF_8);
        r.passthrough = new LinkedHashMap<>();
        r.passthrough.put("blob", "\"" + "y".repeat(passthroughChars) + "\"");
        return r;
    }

    @Test
    void aResultThatFitsGoesToTheResultsTopicUnchanged() {
        ProducerRecord<byte[], byte[]> p = new ResultSerializer("out", "dlq", 8192).serialize(result("a", 100), null, null);
        assertEquals("out", p.topic());
        assertNull(p.headers().lastHeader(DeadLetterSerializer.ERROR_KIND_HEADER));
        assertEquals(new String(ResultJson.toBytes(result("a", 100)), StandardCharsets.UTF_8), new String(p.value(), StandardCharsets.UTF_8));
    }

    @Test
    void aResultTooLargeGoesToTheDeadLetterTopicCutToFit() {
        ProducerRecord<byte[], byte[]> p = new ResultSerializer("out", "dlq", 8192).serialize(result("a", 20_000), null, null);
        assertEquals("dlq", p.topic());
        assertEquals("output_too_large", new String(p.headers().lastHeader(DeadLetterSerializer.ERROR_KIND_HEADER).value(), StandardCharsets.UTF_8));
        assertTrue(RecordSize.payload(p.key(), p.value(), p.headers()) <= RecordSize.payloadLimit(8192));
        assertTrue(Integer.parseInt(new String(p.headers().lastHeader(DeadLetterSerializer.VALUE_TRUNCATED_HEADER).value(), StandardCharsets.UTF_8)) > 20_000);
    }

    @Test
    void withoutADeadLetterTopicATooLargeResultFailsNamingTheRecordAndTheSetting() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new ResultSerializer("out", null, 8192).serialize(result("rec-7", 20_000), null, null));
        assertTrue(e.getMessage().contains("rec-7") && e.getMessage().contains("max.request.size=8192"), e.getMessage());
    }

    @Test
    void aDeadLetterThatFitsKeepsItsRawBytes() {
        ResultRecord r = result("b", 0);
        r.errorKind = "invalid_record";
        r.raw = new byte[3000];
        ProducerRecord<byte[], byte[]> p = new DeadLetterSerializer("dlq", 8192).serialize(r, null, null);
        assertEquals(3000, p.value().length);
        assertNull(p.headers().lastHeader(DeadLetterSerializer.VALUE_TRUNCATED_HEADER));
    }
}
