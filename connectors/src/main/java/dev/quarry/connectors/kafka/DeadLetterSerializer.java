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
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<ResultRecord> {
    private static final long serialVersionUID = 1L;

    public static final String ERROR_KIND_HEADER = "quarry.error.kind";
    public static final String ERROR_MESSAGE_HEADER = "quarry.error.message";
    public static final String ID_HEADER = "quarry.id";
    public static final String SOURCE_HEADER = "quarry.source";

    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ResultRecord r, KafkaSinkContext context, Long timestamp) {
        RecordHeaders h = ResultSerializer.headers(r.headers);
        put(h, ERROR_KIND_HEADER, r.errorKind);
        put(h, ERROR_MESSAGE_HEADER, r.errorMessage);
        put(h, ID_HEADER, r.id);
        put(h, SOURCE_HEADER, r.source);
        byte[] value = r.raw != null ? r.raw : ResultJson.toBytes(r);
        return new ProducerRecord<>(topic, null, timestamp, r.key, value, h);
    }

    private static void put(RecordHeaders h, String k, String v) {
        h.remove(k);
        if (v != null) h.add(k, v.getBytes(StandardCharsets.UTF_8));
    }
}
