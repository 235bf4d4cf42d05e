package dev.quarry.connectors.kafka;

import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * How big a record a Kafka producer will send. The producer refuses a record whose serialized size is above
 * {@code max.request.size} with a {@code RecordTooLargeException}, which fails a Flink {@code KafkaSink} and,
 * after a restart, fails it again on the same record: the serializers check the size first.
 */
final class RecordSize {
    static final String MAX_REQUEST_SIZE = "max.request.size";
    /** The Kafka producer's default {@code max.request.size}. */
    static final int DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;
    /** Room left for Kafka's own per-record and per-batch framing (varints, CRC, attributes, timestamps). */
    static final int FRAMING_BYTES = 512;

    private RecordSize() {}

    /** The effective {@code max.request.size} of producer properties. */
    static int maxRequestSize(Properties p) {
        String v = p.getProperty(MAX_REQUEST_SIZE);
        if (v == null) return DEFAULT_MAX_REQUEST_SIZE;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(MAX_REQUEST_SIZE + " must be a number of bytes, got '" + v + "'");
        }
    }

    /** The most key + value + header bytes a record may have to be sent under {@code maxRequestSize}. */
    static int payloadLimit(int maxRequestSize) {
        return Math.max(0, maxRequestSize - FRAMING_BYTES);
    }

    /** Key, value and header bytes of a record. */
    static long payload(byte[] key, byte[] value, Headers headers) {
        long n = (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) n += h.key().length() * 3L + (h.value() == null ? 0 : h.value().length);
        return n;
    }
}
