package dev.quarry.connectors.kafka;

import dev.quarry.connectors.ResultRecord;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Writes results as JSON ({@link ResultJson}) to a topic, keeping the input's key and headers. */
public final class ResultSerializer implements KafkaRecordSerializationSchema<ResultRecord> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public ResultSerializer(String topic) {
        this.topic = Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ResultRecord r, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, timestamp, r.key, ResultJson.toBytes(r), headers(r.headers));
    }

    static RecordHeaders headers(Map<String, byte[]> h) {
        RecordHeaders headers = new RecordHeaders();
        if (h != null) h.forEach(headers::add);
        return headers;
    }
}
