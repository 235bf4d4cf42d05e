package dev.quarry.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.Json;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(180)
class KafkaConnectorsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @RegisterExtension
    static final KafkaBrokerExtension BROKER = new KafkaBrokerExtension();

    static final AtomicInteger SEEN = new AtomicInteger();

    /** Fake task: upper-cases the text; fails the job once after {@code failAfter} records. */
    static final class FakeTask implements MapFunction<InputRecord, ResultRecord> {
        final int failAfter;

        FakeTask(int failAfter) {
            this.failAfter = failAfter;
        }

        @Override
        public ResultRecord map(InputRecord in) {
            if (failAfter > 0 && SEEN.incrementAndGet() == failAfter) throw new IllegalStateException("injected failure");
            if (!in.isValid()) return ResultRecord.invalid(in, "summarize");
            if (in.text.isEmpty()) return ResultRecord.failed(in, "summarize", "empty_input", "text is empty");
            ResultRecord r = ResultRecord.carry(in, "summarize");
            r.text = in.text.toUpperCase();
            return r;
        }
    }

    @Test
    void jsonInResultsAndDeadLettersOutExactlyOnceAcrossAFailure() throws Exception {
        BROKER.get().createTopics(2, "in1", "out1", "dlq1");
        int n = 600;
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) values.add(("{\"id\":\"r" + i + "\",\"text\":\"t" + i + "\",\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8));
        values.add("{oops".getBytes(StandardCharsets.UTF_8));
        values.add("{\"id\":\"nt\"}".getBytes(StandardCharsets.UTF_8));
        values.add("{\"id\":\"wt\",\"text\":5}".getBytes(StandardCharsets.UTF_8));
        values.add("{\"id\":\"empty\",\"text\":\"\"}".getBytes(StandardCharsets.UTF_8));
        values.add(new byte[] {'{', (byte) 0xFF, '}'});
        BROKER.get().produce("in1", values);

        SEEN.set(0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(300);
        Configuration restart = new Configuration();
        restart.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        env.configure(restart);
        DataStream<ResultRecord> results = env.fromSource(QuarryKafka.source().bootstrapServers(BROKER.get().bootstrap()).topic("in1")
                                .groupId("g1").mapping(InputMapping.defaults())
                                .startingOffsets(OffsetsInitializer.earliest()).boundedAt(OffsetsInitializer.latest()).build(),
                        WatermarkStrategy.noWatermarks(), "kafka-in")
                .map(new FakeTask(350));
        results.filter(r -> !r.isError()).sinkTo(QuarryKafka.sink().bootstrapServers(BROKER.get().bootstrap()).topic("out1")
                .deliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE).transactionalIdPrefix("t-out1")
                .property("transaction.timeout.ms", "60000").build());
        results.filter(ResultRecord::isError).sinkTo(QuarryKafka.sink().bootstrapServers(BROKER.get().bootstrap()).topic("dlq1")
                .deadLetters(true).deliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE).transactionalIdPrefix("t-dlq1").build());
        env.execute("kafka-eos");
        assertTrue(SEEN.get() > n + 5, "the failure was injected and records replayed");

        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> rec : BROKER.get().readCommittedAfterJob("out1")) {
            JsonNode j = Json.MAPPER.readTree(rec.value());
            counts.merge(j.get("id").asText(), 1, Integer::sum);
            int i = Integer.parseInt(j.get("id").asText().substring(1));
            assertEquals("T" + i, j.get("text").asText());
            assertEquals(i, j.get("passthrough").get("n").asInt());
            assertTrue(j.get("error").isNull());
            assertEquals("k" + i, new String(rec.key(), StandardCharsets.UTF_8), "key kept");
        }
        assertEquals(n, counts.size());
        assertTrue(counts.values().stream().allMatch(c -> c == 1), "each id exactly once");
        assertTrue(BROKER.get().readAll("out1", "read_uncommitted").size() > n, "aborted transactional data exists");

        Map<String, String> dlq = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> rec : BROKER.get().readCommittedAfterJob("dlq1")) {
            String kind = new String(rec.headers().lastHeader(DeadLetterSerializer.ERROR_KIND_HEADER).value(), StandardCharsets.UTF_8);
            String msg = new String(rec.headers().lastHeader(DeadLetterSerializer.ERROR_MESSAGE_HEADER).value(), StandardCharsets.UTF_8);
            String key = new String(rec.key(), StandardCharsets.UTF_8);
            assertEquals(null, dlq.put(key, kind + "|" + msg), "dead letter once per record");
            if (kind.equals("invalid_record")) {
                assertEquals(values.get(Integer.parseInt(key.substring(1))).length, rec.value().length, "raw bytes kept");
            }
        }
        assertEquals(5, dlq.size(), dlq.toString());
        assertTrue(dlq.get("k" + n).startsWith("invalid_record|invalid_json"));
        assertTrue(dlq.get("k" + (n + 1)).startsWith("invalid_record|missing_text_field"));
        assertTrue(dlq.get("k" + (n + 2)).startsWith("invalid_record|wrong_type"));
        assertTrue(dlq.get("k" + (n + 3)).startsWith("empty_input|"));
        assertTrue(dlq.get("k" + (n + 4)).startsWith("invalid_record|invalid_utf8"));
    }

    @Test
    void recordsTooLargeForTheProducerBecomeCutDeadLettersInsteadOfFailingTheJob() throws Exception {
        BROKER.get().createTopics(1, "in2", "out2", "dlq2");
        int n = 20, max = 16384;
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) values.add(("{\"id\":\"r" + i + "\",\"text\":\"t" + i + "\"}").getBytes(StandardCharsets.UTF_8));
        String blob = "x".repeat(40_000);
        byte[] bigResult = ("{\"id\":\"big\",\"text\":\"fine\",\"blob\":\"" + blob + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] bigInvalid = ("{\"id\":\"bad\",\"text\":\"" + blob).getBytes(StandardCharsets.UTF_8); // unterminated
        values.add(bigResult);
        values.add(bigInvalid);
        BROKER.get().produce("in2", values);

        SEEN.set(0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.enableCheckpointing(300);
        Configuration noRestart = new Configuration();
        noRestart.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        env.configure(noRestart);
        DataStream<ResultRecord> results = env.fromSource(QuarryKafka.source().bootstrapServers(BROKER.get().bootstrap()).topic("in2")
                                .groupId("g2").mapping(InputMapping.defaults())
                                .startingOffsets(OffsetsInitializer.earliest()).boundedAt(OffsetsInitializer.latest()).build(),
                        WatermarkStrategy.noWatermarks(), "kafka-in")
                .map(new FakeTask(0));
        results.filter(r -> !r.isError()).sinkTo(QuarryKafka.sink().bootstrapServers(BROKER.get().bootstrap()).topic("out2")
                .oversizeResultsTo("dlq2").deliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE).transactionalIdPrefix("t-out2")
                .property("transaction.timeout.ms", "60000").property("max.request.size", Integer.toString(max)).build());
        results.filter(ResultRecord::isError).sinkTo(QuarryKafka.sink().bootstrapServers(BROKER.get().bootstrap()).topic("dlq2")
                .deadLetters(true).deliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE).transactionalIdPrefix("t-dlq2")
                .property("max.request.size", Integer.toString(max)).build());
        env.execute("kafka-oversize"); // a RecordTooLargeException would fail it (no restarts)

        assertEquals(n, BROKER.get().readCommittedAfterJob("out2").size(), "the other results are written");
        Map<String, ConsumerRecord<byte[], byte[]>> dlq = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> rec : BROKER.get().readCommittedAfterJob("dlq2")) {
            dlq.put(new String(rec.key(), StandardCharsets.UTF_8), rec);
            assertTrue(rec.value().length < max, "cut to fit: " + rec.value().length);
        }
        assertEquals(java.util.Set.of("k" + n, "k" + (n + 1)), dlq.keySet());
        ConsumerRecord<byte[], byte[]> big = dlq.get("k" + n);
        assertEquals("output_too_large", header(big, DeadLetterSerializer.ERROR_KIND_HEADER));
        assertTrue(header(big, DeadLetterSerializer.ERROR_MESSAGE_HEADER).contains("record 'big'")
                && header(big, DeadLetterSerializer.ERROR_MESSAGE_HEADER).contains("max.request.size=" + max), header(big, DeadLetterSerializer.ERROR_MESSAGE_HEADER));
        assertTrue(Integer.parseInt(header(big, DeadLetterSerializer.VALUE_TRUNCATED_HEADER)) > 40_000);
        assertTrue(new String(big.value(), StandardCharsets.UTF_8).startsWith("{"), "the start of the result JSON");
        ConsumerRecord<byte[], byte[]> bad = dlq.get("k" + (n + 1));
        assertEquals("invalid_record", header(bad, DeadLetterSerializer.ERROR_KIND_HEADER));
        assertEquals(Integer.toString(bigInvalid.length), header(bad, DeadLetterSerializer.VALUE_TRUNCATED_HEADER));
        assertArrayEquals(java.util.Arrays.copyOf(bigInvalid, bad.value().length), bad.value(), "the raw bytes' start");
    }

    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
