package dev.quarry.connectors;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One input record as read from Kafka, Parquet or Arrow. A Flink POJO (public no-arg constructor,
 * public fields), so Flink serializes it with its PojoSerializer, not Kryo.
 *
 * <p>A record that could not be parsed is still an {@code InputRecord}: {@link #invalidReason} says
 * why and {@link #raw} holds the original bytes, so the job can route it to the dead-letter output
 * instead of failing. Passthrough values are JSON-encoded (a string value is stored with its quotes).
 */
public class InputRecord {
    /** Record id (from the id field/column, or a fallback naming its source position). */
    public String id;
    /** The text the task runs on; null for invalid records. */
    public String text;
    /** Other fields carried to the output, name -> JSON-encoded value, in input order. */
    public Map<String, String> passthrough = new LinkedHashMap<>();
    /** Kafka record key (null for files or unkeyed records). */
    public byte[] key;
    /** Kafka headers, name -> value (the last one wins when a name repeats). */
    public Map<String, byte[]> headers = new LinkedHashMap<>();
    /** Kafka source position, or null. */
    public String sourceTopic;
    public Integer sourcePartition;
    public Long sourceOffset;
    /** Source file and row index for file inputs, or null. */
    public String sourceFile;
    public Long sourceRow;
    /** Why the record could not be parsed (null for valid records), e.g. {@code invalid_json: ...}. */
    public String invalidReason;
    /** The original bytes of an invalid record (null for valid records). */
    public byte[] raw;

    public InputRecord() {}

    public static InputRecord of(String id, String text) {
        InputRecord r = new InputRecord();
        r.id = id;
        r.text = text;
        return r;
    }

    public boolean isValid() {
        return invalidReason == null;
    }

    /** Where the record came from, for error messages: {@code topic-partition@offset} or {@code file#row}. */
    public String sourceDescription() {
        if (sourceTopic != null) return sourceTopic + "-" + sourcePartition + "@" + sourceOffset;
        if (sourceFile != null) return sourceFile + (sourceRow == null ? "" : "#" + sourceRow);
        return "unknown source";
    }

    @Override
    public String toString() {
        return "InputRecord{id=" + id + ", source=" + sourceDescription()
                + (invalidReason == null ? ", text=" + abbreviate(text) : ", invalid=" + invalidReason) + '}';
    }

    static String abbreviate(String s) {
        if (s == null) return "null";
        return s.length() <= 40 ? '"' + s + '"' : '"' + s.substring(0, 37) + "...\"";
    }
}
