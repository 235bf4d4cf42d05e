package dev.quarry.connectors.kafka;

import dev.quarry.connectors.ErrorKinds;
import dev.quarry.connectors.ResultRecord;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes results as JSON ({@link ResultJson}) to a topic, keeping the input's key and headers.
 *
 * <p>A result too large for the producer's {@code max.request.size} (a large passthrough field, say) would fail
 * the sink on every restart. With a dead-letter topic set, such a result goes there instead, in the same
 * transaction, as an {@value dev.quarry.connectors.ErrorKinds#OUTPUT_TOO_LARGE} dead letter whose value is the
 * result JSON cut to fit ({@link DeadLetterSerializer#VALUE_TRUNCATED_HEADER}); without one, the sink fails with
 * a message naming the record and the setting to raise.
 */
public final class ResultSerializer implements KafkaRecordSerializationSchema<ResultRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ResultSerializer.class);

    private final String topic;
    private final String deadLetterTopic;
    private final int maxRequestSize;

    /** With the Kafka producer's default {@code max.request.size} and no dead-letter topic. */
    public ResultSerializer(String topic) {
        this(topic, null, RecordSize.DEFAULT_MAX_REQUEST_SIZE);
    }

    /**
     * @param deadLetterTopic where results too large to send go, or {@code null} to fail on them
     * @param maxRequestSize the sink producer's {@code max.request.size}
     */
    public ResultSerializer(String topic, String deadLetterTopic, int maxRequestSize) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.deadLetterTopic = deadLetterTopic;
        this.maxRequestSize = maxRequestSize;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ResultRecord r, KafkaSinkContext context, Long timestamp) {
        byte[] value = ResultJson.toBytes(r);
        RecordHeaders h = headers(r.headers);
        long size = RecordSize.payload(r.key, value, h);
        if (size <= RecordSize.payloadLimit(maxRequestSize)) return new ProducerRecord<>(topic, null, timestamp, r.key, value, h);
        String message = "the result of record '" + r.id + "' is " + size + " bytes (key, JSON value and headers), more than "
                + RecordSize.MAX_REQUEST_SIZE + "=" + maxRequestSize + " allows; raise it (and the topic's max.message.bytes)"
                + " to keep such results";
        if (deadLetterTopic == null) throw new IllegalStateException("Quarry Kafka sink for topic " + topic + ": " + message);
        LOG.warn("Quarry Kafka sink for topic {}: {}; writing it to the dead-letter topic {}", topic, message, deadLetterTopic);
        DeadLetterSerializer.errorHeaders(h, r, ErrorKinds.OUTPUT_TOO_LARGE, message);
        return new ProducerRecord<>(deadLetterTopic, null, timestamp, r.key, DeadLetterSerializer.fit(r.key, value, h, maxRequestSize), h);
    }

    static RecordHeaders headers(Map<String, byte[]> h) {
        RecordHeaders headers = new RecordHeaders();
        if (h != null) h.forEach(headers::add);
        return headers;
    }
}
