package dev.quarry.connectors.kafka;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.Json;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Reads JSON objects from Kafka into {@link InputRecord}s. Never throws: a value that is not valid
 * UTF-8, not valid JSON (including anything but whitespace after the value), not an object, lacks the text field or has a non-string text becomes an
 * {@code InputRecord} with {@link InputRecord#invalidReason} and the raw bytes, which the job routes
 * to the dead-letter topic. Empty text is passed on (the engine reports it as {@code empty_input}).
 *
 * <p>Reasons start with a stable code: {@code null_value}, {@code invalid_utf8}, {@code invalid_json},
 * {@code not_an_object}, {@code missing_text_field}, {@code wrong_type}.
 */
public final class JsonInputDeserializer implements KafkaRecordDeserializationSchema<InputRecord> {
    private static final long serialVersionUID = 1L;

    private final InputMapping mapping;

    public JsonInputDeserializer(InputMapping mapping) {
        this.mapping = Objects.requireNonNull(mapping, "mapping");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputRecord> out) {
        out.collect(parse(record.topic(), record.partition(), record.offset(), record.key(), record.value(), headers(record)));
    }

    /** Parses one Kafka value; public for tests and other sources of JSON lines. */
    public InputRecord parse(String topic, int partition, long offset, byte[] key, byte[] value, Map<String, byte[]> headers) {
        InputRecord r = new InputRecord();
        r.sourceTopic = topic;
        r.sourcePartition = partition;
        r.sourceOffset = offset;
        r.key = key;
        if (headers != null) r.headers = headers;
        r.id = topic + "-" + partition + "-" + offset;
        try {
            if (value == null) return invalid(r, null, "null_value: the record has no value (tombstone)");
            String s;
            try {
                s = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(value)).toString();
            } catch (CharacterCodingException e) {
                return invalid(r, value, "invalid_utf8: the value is not valid UTF-8 (" + e.getMessage() + ")");
            }
            if (s.startsWith("\uFEFF")) s = s.substring(1);   // a UTF-8 byte order mark is not content
            JsonNode node;
            try (JsonParser p = Json.MAPPER.createParser(s)) {
                node = Json.MAPPER.readTree(p);
                JsonLocation end = p.currentLocation();
                JsonToken more;
                try {
                    more = p.nextToken();
                } catch (Exception e) {
                    more = JsonToken.NOT_AVAILABLE;
                }
                if (more != null) {
                    return invalid(r, value, "invalid_json: trailing content after the JSON value (line " + end.getLineNr()
                            + ", column " + end.getColumnNr() + ")");
                }
            } catch (Exception e) {
                return invalid(r, value, "invalid_json: " + firstLine(e.getMessage()));
            }
            if (node == null || !node.isObject()) {
                return invalid(r, value, "not_an_object: expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
            }
            String idField = mapping.idField();
            if (idField != null && node.hasNonNull(idField)) {
                JsonNode id = node.get(idField);
                if (!id.isValueNode()) return invalid(r, value, "wrong_type: id field '" + idField + "' is " + id.getNodeType().name().toLowerCase() + ", expected a string or number");
                r.id = id.asText();
            }
            JsonNode text = node.get(mapping.textField());
            if (text == null || text.isNull()) return invalid(r, value, "missing_text_field: no '" + mapping.textField() + "' field");
            if (!text.isTextual()) return invalid(r, value, "wrong_type: text field '" + mapping.textField() + "' is " + text.getNodeType().name().toLowerCase() + ", expected a string");
            r.text = text.asText();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (mapping.passes(e.getKey())) r.passthrough.put(e.getKey(), e.getValue().toString());
            }
            return r;
        } catch (RuntimeException e) {
            return invalid(r, value, "invalid_record: " + e);
        }
    }

    private static InputRecord invalid(InputRecord r, byte[] raw, String reason) {
        r.invalidReason = reason;
        r.raw = raw;
        r.text = null;
        r.passthrough.clear();
        return r;
    }

    private static String firstLine(String s) {
        if (s == null) return "unparseable";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static Map<String, byte[]> headers(ConsumerRecord<?, ?> record) {
        Map<String, byte[]> m = new java.util.LinkedHashMap<>();
        for (Header h : record.headers()) m.put(h.key(), h.value());
        return m;
    }

    @Override
    public TypeInformation<InputRecord> getProducedType() {
        return TypeInformation.of(InputRecord.class);
    }
}
