package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quarry.connectors.Json;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.kafka.DeadLetterSerializer;
import dev.quarry.connectors.kafka.KafkaBrokerExtension;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad record ends in the dead-letter topic with its reason; good records are unaffected. */
@Timeout(240)
class BadRecordsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @RegisterExtension
    static final KafkaBrokerExtension BROKER = new KafkaBrokerExtension();

    /** The engine under test and the model directory it loads. */
    protected EngineFactory engines() {
        return FakeEngine.factory();
    }

    protected Path modelDir(Path tmp) {
        return tmp;
    }

    /** A text longer than the engine accepts. */
    protected String tooLongText() {
        return "word ".repeat(FakeEngine.MAX_CHARS);
    }

    @Test
    void badRecordsGoToTheDeadLetterTopicWithTheirReason(@TempDir Path tmp) throws Exception {
        String p = "bad" + System.nanoTime();
        BROKER.get().createTopics(1, p + "-in", p + "-out", p + "-dlq");
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 20; i++) values.add(("{\"id\":\"good" + i + "\",\"text\":\"fine text " + i + "\"}").getBytes(StandardCharsets.UTF_8));
        Map<String, byte[]> bad = new HashMap<>();
        bad.put("invalid_json", "{\"id\":\"b1\",\"text\":\"unterminated".getBytes(StandardCharsets.UTF_8));
        bad.put("missing_text", "{\"id\":\"b2\",\"body\":\"no text field\"}".getBytes(StandardCharsets.UTF_8));
        bad.put("wrong_type", "{\"id\":\"b3\",\"text\":[1,2,3]}".getBytes(StandardCharsets.UTF_8));
        bad.put("empty_text", "{\"id\":\"b4\",\"text\":\"\"}".getBytes(StandardCharsets.UTF_8));
        bad.put("too_long", ("{\"id\":\"b5\",\"text\":\"" + tooLongText() + "\"}").getBytes(StandardCharsets.UTF_8));
        bad.put("invalid_utf8", new byte[] {'{', '"', 'i', 'd', '"', ':', '"', 'b', '6', '"', ',', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xE2, (byte) 0x28, (byte) 0xA1, '"', '}'});
        List<String> order = List.of("invalid_json", "missing_text", "wrong_type", "empty_text", "too_long", "invalid_utf8");
        for (String k : order) values.add(bad.get(k));
        BROKER.get().produce(p + "-in", values);

        StreamJob.Options o = StreamJob.Options.builder().bootstrapServers(BROKER.get().bootstrap()).inputTopic(p + "-in")
                .outputTopic(p + "-out").dlqTopic(p + "-dlq")
                .spec(ScoringSpec.builder().task(TaskKind.SUMMARIZE).maxNewTokens(4).maxSequenceLength(256).modelDir(modelDir(tmp)).build())
                .checkpointInterval(Duration.ofMillis(300)).expectedRestart(Duration.ofSeconds(5))
                .kafkaProperty("transaction.timeout.ms", "60000").bounded(true).restartAttempts(0).build();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(StreamJob.configuration(o));
        StreamJob.build(env, o, engines());
        env.execute("bad-records");

        Set<String> good = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : BROKER.get().readCommittedAfterJob(p + "-out")) {
            JsonNode j = Json.MAPPER.readTree(r.value());
            assertTrue(j.get("error").isNull());
            assertTrue(j.get("text").isTextual());
            good.add(j.get("id").asText());
        }
        assertEquals(20, good.size(), "good records are unaffected");

        Map<String, String> reasons = new HashMap<>();
        Map<String, byte[]> raw = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : BROKER.get().readCommittedAfterJob(p + "-dlq")) {
            int index = Integer.parseInt(new String(r.key(), StandardCharsets.UTF_8).substring(1)) - 20;
            String kind = new String(r.headers().lastHeader(DeadLetterSerializer.ERROR_KIND_HEADER).value(), StandardCharsets.UTF_8);
            String msg = new String(r.headers().lastHeader(DeadLetterSerializer.ERROR_MESSAGE_HEADER).value(), StandardCharsets.UTF_8);
            reasons.put(order.get(index), kind + ": " + msg);
            raw.put(order.get(index), r.value());
        }
        assertEquals(6, reasons.size(), reasons.toString());
        assertTrue(reasons.get("invalid_json").startsWith("invalid_record: invalid_json"), reasons.toString());
        assertTrue(reasons.get("missing_text").startsWith("invalid_record: missing_text_field"), reasons.toString());
        assertTrue(reasons.get("wrong_type").startsWith("invalid_record: wrong_type"), reasons.toString());
        assertTrue(reasons.get("invalid_utf8").startsWith("invalid_record: invalid_utf8"), reasons.toString());
        assertTrue(reasons.get("empty_text").startsWith("empty_input: "), reasons.toString());
        assertTrue(reasons.get("too_long").startsWith("input_too_long: "), reasons.toString());
        assertTrue(reasons.get("too_long").contains("b5"), "the message names the record: " + reasons.get("too_long"));
        for (String k : List.of("invalid_json", "missing_text", "wrong_type", "invalid_utf8")) {
            assertArrayEquals(bad.get(k), raw.get(k), "raw bytes of " + k + " kept");
        }
        assertEquals("b4", Json.MAPPER.readTree(raw.get("empty_text")).get("id").asText(), "engine errors carry the result JSON");
    }
}
