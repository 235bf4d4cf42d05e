package dev.quarry.connectors;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One result: the task output for a record, or the error it ended in, plus token counts, timings and
 * lineage. A Flink POJO (public no-arg constructor, public fields).
 *
 * <p>Which result fields are set depends on the task: summarize/prompt set {@link #text}; classify
 * sets {@link #label} and {@link #probabilities}; extract sets {@link #json} and {@link #fields}
 * (field name -> JSON-encoded typed value; {@link dev.quarry.connectors.ResultSchema} turns them into
 * typed columns). A failed record sets {@link #errorKind} (wire name, e.g. {@code input_too_long}) and
 * {@link #errorMessage} instead.
 */
public class ResultRecord {
    public String id;
    public String task;
    public String text;
    public String label;
    public Map<String, Double> probabilities;
    public String json;
    public Map<String, String> fields;
    public String errorKind;
    public String errorMessage;
    public int promptTokens;
    public int generatedTokens;
    public long latencyMs;
    /** Lineage: model name, hash of its weights, decoding parameters. */
    public String model;
    public String modelHash;
    public String decoding;
    /** Input fields carried through, name -> JSON-encoded value. */
    public Map<String, String> passthrough = new LinkedHashMap<>();
    public byte[] key;
    public Map<String, byte[]> headers = new LinkedHashMap<>();
    /** Where the input came from (see {@link InputRecord#sourceDescription()}). */
    public String source;
    /** The original bytes of an input that could not be parsed (dead-letter output only). */
    public byte[] raw;

    public ResultRecord() {}

    public boolean isError() {
        return errorKind != null;
    }

    /** An error result for an input that could not be parsed ({@code invalid_record}). */
    public static ResultRecord invalid(InputRecord in, String task) {
        ResultRecord r = carry(in, task);
        r.errorKind = ErrorKinds.INVALID_RECORD;
        r.errorMessage = in.invalidReason;
        r.raw = in.raw;
        return r;
    }

    /** An error result of the given kind for an input. */
    public static ResultRecord failed(InputRecord in, String task, String errorKind, String message) {
        ResultRecord r = carry(in, task);
        r.errorKind = errorKind;
        r.errorMessage = message;
        return r;
    }

    /** A result with id, task, passthrough, key, headers and source copied from the input. */
    public static ResultRecord carry(InputRecord in, String task) {
        ResultRecord r = new ResultRecord();
        r.id = in.id;
        r.task = task;
        if (in.passthrough != null) r.passthrough = new LinkedHashMap<>(in.passthrough);
        r.key = in.key;
        if (in.headers != null) r.headers = new LinkedHashMap<>(in.headers);
        r.source = in.sourceDescription();
        return r;
    }

    @Override
    public String toString() {
        return "ResultRecord{id=" + id + ", task=" + task
                + (errorKind != null ? ", error=" + errorKind + ": " + errorMessage
                        : ", text=" + InputRecord.abbreviate(text) + ", label=" + label + ", json=" + json)
                + '}';
    }
}
