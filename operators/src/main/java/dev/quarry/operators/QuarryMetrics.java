package dev.quarry.operators;

import dev.quarry.engine.ErrorKind;

/**
 * Names of the metrics the inference operator registers in Flink's metric system, in the sub-group
 * {@value #GROUP} of the operator's metric group, e.g.
 * {@code <host>.taskmanager.<tm>.<job>.<operator>.<subtask>.quarry.recordsIn}.
 *
 * <p>Counters and meters are per subtask. The {@code engine*} gauges read the shared engine of the
 * TaskManager ({@link dev.quarry.engine.Engine#stats()}), so every subtask on one TaskManager reports the
 * same value for them; do not sum them across subtasks of one TaskManager.
 */
public final class QuarryMetrics {
    /** The sub-group under the operator's metric group. */
    public static final String GROUP = "quarry";
    /** Counter: records that entered the operator (each becomes exactly one result). */
    public static final String RECORDS_IN = "recordsIn";
    /** Counter: results emitted, successes and errors. */
    public static final String RECORDS_OUT = "recordsOut";
    /** Counter: error results of every kind. */
    public static final String ERRORS = "errors";
    /** Counter per {@link ErrorKind}: {@code errors_<wire name>}, see {@link #errors(ErrorKind)}. */
    public static final String ERRORS_PREFIX = "errors_";
    /** Counter: prompt tokens of all results. */
    public static final String PROMPT_TOKENS = "promptTokens";
    /** Counter: generated (or scored) tokens of all results. */
    public static final String GENERATED_TOKENS = "generatedTokens";
    /** Meter: prompt tokens per second. */
    public static final String PROMPT_TOKENS_PER_SECOND = "promptTokensPerSecond";
    /** Meter: generated tokens per second. */
    public static final String GENERATED_TOKENS_PER_SECOND = "generatedTokensPerSecond";
    /** Meter: results per second. */
    public static final String RECORDS_OUT_PER_SECOND = "recordsOutPerSecond";
    /** Gauge: records of this subtask submitted to the engine and not answered yet (at most the capacity). */
    public static final String IN_FLIGHT = "inFlight";
    /** Histogram: end-to-end latency of a record inside the operator (submit to result), milliseconds. */
    public static final String LATENCY_MS = "latencyMs";
    /** Gauge: requests waiting in the engine's queue for admission. */
    public static final String ENGINE_QUEUE_DEPTH = "engineQueueDepth";
    /** Gauge: sequences in the engine's current batch. */
    public static final String ENGINE_ACTIVE_SEQUENCES = "engineActiveSequences";
    /** Gauge: average batch occupancy since the engine started (sequences per decode step). */
    public static final String ENGINE_BATCH_OCCUPANCY = "engineBatchOccupancy";
    /** Gauge: bytes of per-sequence state (Mamba conv+SSM, attention K/V) the engine holds now. */
    public static final String ENGINE_STATE_BYTES = "engineStateBytes";
    /**
     * Gauge, monotonic: rows (sequences) the engine advanced by decode steps since it started. Its rate over the rate
     * of {@link #ENGINE_DECODE_MILLIS} is the engine's decode throughput in tokens per second of decoding.
     */
    public static final String ENGINE_DECODE_ROWS = "engineDecodeRows";
    /** Gauge, monotonic: milliseconds the engine spent in decode steps since it started. */
    public static final String ENGINE_DECODE_MILLIS = "engineDecodeMillis";
    /** Samples kept by the latency histogram. */
    public static final int LATENCY_WINDOW = 1024;

    private QuarryMetrics() {}

    /** The counter name for one error kind, e.g. {@code errors_timeout}. */
    public static String errors(ErrorKind kind) {
        return ERRORS_PREFIX + kind.wireName();
    }
}
