package dev.quarry.connectors.kafka;

import dev.quarry.connectors.ResultRecord;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes failed records to a dead-letter topic. The value is the original bytes when the input could
 * not be parsed, else the result JSON ({@link ResultJson}, which carries the error and passthrough).
 * The key and the input headers are kept, and these headers are added:
 * {@value #ERROR_KIND_HEADER}, {@value #ERROR_MESSAGE_HEADER}, {@value #ID_HEADER}, {@value #SOURCE_HEADER}.
 *
 * <p>A dead letter never fails the sink for its size: when key, value and headers would exceed the producer's
 * {@code max.request.size}, the value is cut to fit and {@value #VALUE_TRUNCATED_HEADER} gives its full length
 * in bytes (a record the source could read from a compressed topic can be too large to write uncompressed).
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<ResultRecord> {
    private static final long serialVersionUID = 1L;

    public static final String ERROR_KIND_HEADER = "quarry.error.kind";
    public static final String ERROR_MESSAGE_HEADER = "quarry.error.message";
    public static final String ID_HEADER = "quarry.id";
    public static final String SOURCE_HEADER = "quarry.source";
    /** On a dead letter whose value was cut to fit {@code max.request.size}: the value's full length in bytes. */
    public static final String VALUE_TRUNCATED_HEADER = "quarry.value.truncated";

    private final String topic;
    private final int maxRequestSize;

    /** With the Kafka producer's default {@code max.request.size}. */
    public DeadLetterSerializer(String topic) {
        this(topic, RecordSize.DEFAULT_MAX_REQUEST_SIZE);
    }

    /** @param maxRequestSize the sink producer's {@code max.request.size} */
    public DeadLetterSerializer(String topic, int maxRequestSize) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.maxRequestSize = maxRequestSize;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ResultRecord r, KafkaSinkContext context, Long timestamp) {
        RecordHeaders h = ResultSerializer.headers(r.headers);
        errorHeaders(h, r, r.errorKind, r.errorMessage);
        byte[] value = r.raw != null ? r.raw : ResultJson.toBytes(r);
        return new ProducerRecord<>(topic, null, timestamp, r.key, fit(r.key, value, h, maxRequestSize), h);
    }

    /** Sets the dead-letter headers of {@code r} (error kind and message, record id, source). */
    static void errorHeaders(RecordHeaders h, ResultRecord r, String kind, String message) {
        put(h, ERROR_KIND_HEADER, kind);
        put(h, ERROR_MESSAGE_HEADER, message);
        put(h, ID_HEADER, r.id);
        put(h, SOURCE_HEADER, r.source);
    }

    /** The value, or its first bytes with {@value #VALUE_TRUNCATED_HEADER} added when the record would not fit. */
    static byte[] fit(byte[] key, byte[] value, RecordHeaders h, int maxRequestSize) {
        long limit = RecordSize.payloadLimit(maxRequestSize);
        if (RecordSize.payload(key, value, h) <= limit) return value;
        put(h, VALUE_TRUNCATED_HEADER, Integer.toString(value.length));
        long room = limit - RecordSize.payload(key, null, h);
        return java.util.Arrays.copyOf(value, (int) Math.max(0, Math.min(value.length, room)));
    }

    private static void put(RecordHeaders h, String k, String v) {
        h.remove(k);
        if (v != null) h.add(k, v.getBytes(StandardCharsets.UTF_8));
    }
}
