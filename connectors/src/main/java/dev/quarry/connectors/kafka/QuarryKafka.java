package dev.quarry.connectors.kafka;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Builders for Quarry's Kafka source (JSON in) and sinks (results, dead letters). Any Kafka client
 * property (SASL, SSL, ...) passes through {@code property}/{@code properties}.
 */
public final class QuarryKafka {
    /** Default {@code transaction.timeout.ms} for exactly-once sinks: 10 minutes (brokers allow 15 by default). */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(10);
    public static final String TRANSACTION_TIMEOUT_MS = "transaction.timeout.ms";

    private QuarryKafka() {}

    public static SourceBuilder source() { return new SourceBuilder(); }

    public static SinkBuilder sink() { return new SinkBuilder(); }

    /** Builds a {@code KafkaSource<InputRecord>} reading JSON objects. */
    public static final class SourceBuilder {
        private String bootstrapServers;
        private String topic;
        private String groupId = "quarry";
        private InputMapping mapping = InputMapping.defaults();
        private final Properties properties = new Properties();
        private OffsetsInitializer startingOffsets = OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        private OffsetsInitializer stoppingOffsets;

        public SourceBuilder bootstrapServers(String v) { this.bootstrapServers = v; return this; }
        public SourceBuilder topic(String v) { this.topic = v; return this; }
        public SourceBuilder groupId(String v) { this.groupId = v; return this; }
        public SourceBuilder mapping(InputMapping v) { this.mapping = v; return this; }
        public SourceBuilder property(String k, String v) { properties.setProperty(k, v); return this; }
        public SourceBuilder properties(Map<String, String> m) { if (m != null) m.forEach(properties::setProperty); return this; }
        /** Default: the group's committed offsets, else the earliest. A restored job uses its checkpointed offsets. */
        public SourceBuilder startingOffsets(OffsetsInitializer v) { this.startingOffsets = v; return this; }
        /** Makes the source bounded: it stops at these offsets (e.g. {@code OffsetsInitializer.latest()}). */
        public SourceBuilder boundedAt(OffsetsInitializer v) { this.stoppingOffsets = v; return this; }

        public KafkaSource<InputRecord> build() {
            require(bootstrapServers, "bootstrapServers");
            require(topic, "topic");
            require(groupId, "groupId");
            Objects.requireNonNull(mapping, "mapping");
            KafkaSourceBuilder<InputRecord> b = KafkaSource.<InputRecord>builder()
                    .setBootstrapServers(bootstrapServers)
                    .setTopics(topic)
                    .setGroupId(groupId)
                    .setStartingOffsets(startingOffsets)
                    .setDeserializer(new JsonInputDeserializer(mapping))
                    .setProperties(properties);
            if (!properties.containsKey("isolation.level")) b.setProperty("isolation.level", "read_committed");
            if (stoppingOffsets != null) b.setBounded(stoppingOffsets);
            return b.build();
        }
    }

    /**
     * Builds a {@code KafkaSink<ResultRecord>}. Delivery guarantees: {@code EXACTLY_ONCE} writes in Kafka
     * transactions committed on Flink checkpoints (readers must use {@code isolation.level=read_committed};
     * output becomes visible only after a checkpoint completes; needs a transactional id prefix unique per
     * job on the cluster); {@code AT_LEAST_ONCE} flushes on checkpoints and may duplicate after a failure;
     * {@code NONE} gives no guarantee.
     */
    public static final class SinkBuilder {
        private String bootstrapServers;
        private String topic;
        private boolean deadLetter;
        private String oversizeTopic;
        private KafkaRecordSerializationSchema<ResultRecord> serializer;
        private DeliveryGuarantee guarantee = DeliveryGuarantee.EXACTLY_ONCE;
        private String transactionalIdPrefix;
        private final Properties properties = new Properties();

        public SinkBuilder bootstrapServers(String v) { this.bootstrapServers = v; return this; }
        public SinkBuilder topic(String v) { this.topic = v; return this; }
        /** Writes dead letters ({@link DeadLetterSerializer}) instead of results ({@link ResultSerializer}). */
        public SinkBuilder deadLetters(boolean v) { this.deadLetter = v; return this; }
        /**
         * For a results sink: where a result too large for the producer's {@code max.request.size} goes (as an
         * {@code output_too_large} dead letter, in the same transaction). Without it such a result fails the sink.
         */
        public SinkBuilder oversizeResultsTo(String deadLetterTopic) { this.oversizeTopic = deadLetterTopic; return this; }
        /** A custom serializer (overrides the topic's default one). */
        public SinkBuilder serializer(KafkaRecordSerializationSchema<ResultRecord> v) { this.serializer = v; return this; }
        public SinkBuilder deliveryGuarantee(DeliveryGuarantee v) { this.guarantee = v; return this; }
        public SinkBuilder transactionalIdPrefix(String v) { this.transactionalIdPrefix = v; return this; }
        public SinkBuilder property(String k, String v) { properties.setProperty(k, v); return this; }
        public SinkBuilder properties(Map<String, String> m) { if (m != null) m.forEach(properties::setProperty); return this; }

        public KafkaSink<ResultRecord> build() {
            require(bootstrapServers, "bootstrapServers");
            require(topic, "topic");
            Objects.requireNonNull(guarantee, "deliveryGuarantee");
            if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
                require(transactionalIdPrefix, "transactionalIdPrefix (needed for EXACTLY_ONCE)");
                if (!properties.containsKey(TRANSACTION_TIMEOUT_MS)) {
                    properties.setProperty(TRANSACTION_TIMEOUT_MS, Long.toString(DEFAULT_TRANSACTION_TIMEOUT.toMillis()));
                }
            }
            KafkaRecordSerializationSchema<ResultRecord> s = serializer != null ? serializer
                    : deadLetter ? new DeadLetterSerializer(topic, RecordSize.maxRequestSize(properties))
                    : new ResultSerializer(topic, oversizeTopic, RecordSize.maxRequestSize(properties));
            var b = KafkaSink.<ResultRecord>builder()
                    .setBootstrapServers(bootstrapServers)
                    .setRecordSerializer(s)
                    .setDeliveryGuarantee(guarantee)
                    .setKafkaProducerConfig(properties);
            if (transactionalIdPrefix != null) b.setTransactionalIdPrefix(transactionalIdPrefix);
            return b.build();
        }
    }

    /** The effective {@code transaction.timeout.ms} of a property map (the sink default when absent). */
    public static Duration transactionTimeout(Map<String, String> properties) {
        String v = properties == null ? null : properties.get(TRANSACTION_TIMEOUT_MS);
        if (v == null) return DEFAULT_TRANSACTION_TIMEOUT;
        try {
            return Duration.ofMillis(Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(TRANSACTION_TIMEOUT_MS + " must be a number of milliseconds, got '" + v + "'");
        }
    }

    /**
     * Checks that Kafka transactions outlive a failure: an exactly-once sink keeps a transaction open
     * from one checkpoint to the next, and after a failure it is committed only when the job is back
     * (restart delay + model load + restore). If {@code transaction.timeout.ms} is shorter than the
     * checkpoint interval plus that restart time, the broker aborts the transaction and committed output
     * is lost. Throws an {@link IllegalArgumentException} saying what to change.
     */
    public static void checkTransactionTimeout(Duration transactionTimeout, Duration checkpointInterval, Duration expectedRestart) {
        Duration needed = checkpointInterval.plus(expectedRestart);
        if (transactionTimeout.compareTo(needed) <= 0) {
            throw new IllegalArgumentException(String.format(
                    "Kafka %s=%d ms is too short for exactly-once: it must exceed the checkpoint interval (%d ms) plus the "
                            + "expected restart time including model load (%d ms) = %d ms, or the broker aborts open transactions "
                            + "during a recovery and their results are lost. Raise it with --kafka-property %s=<ms> (at most the "
                            + "broker's transaction.max.timeout.ms, 900000 by default), or lower --checkpoint-interval.",
                    TRANSACTION_TIMEOUT_MS, transactionTimeout.toMillis(), checkpointInterval.toMillis(), expectedRestart.toMillis(),
                    needed.toMillis(), TRANSACTION_TIMEOUT_MS));
        }
    }

    private static void require(String v, String name) {
        if (v == null || v.isBlank()) throw new IllegalArgumentException(name + " must be set");
    }
}
