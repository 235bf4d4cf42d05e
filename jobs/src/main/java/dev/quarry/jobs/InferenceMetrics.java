package dev.quarry.jobs;

import java.util.List;

/**
 * Names of the metrics the inference step registers in Flink's metric system, under the operator's
 * metric group and the sub-group {@value #GROUP} (e.g. {@code <operator>.quarry.records_in}).
 */
public final class InferenceMetrics {
    public static final String GROUP = "quarry";
    /** Records handed to the engine (valid records; unparseable ones never reach it). */
    public static final String RECORDS_IN = "records_in";
    /** Results emitted (successes and errors). */
    public static final String RECORDS_OUT = "records_out";
    /** All error results. */
    public static final String ERRORS = "errors";
    /** Error results of one kind: {@code errors_<kind>}, e.g. {@code errors_input_too_long}. */
    public static final String ERRORS_PREFIX = "errors_";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String GENERATED_TOKENS = "generated_tokens";
    public static final String PROMPT_TOKENS_PER_SECOND = "prompt_tokens_per_second";
    public static final String GENERATED_TOKENS_PER_SECOND = "generated_tokens_per_second";
    /** Records submitted to the engine and not yet answered. */
    public static final String IN_FLIGHT = "in_flight";
    /** End-to-end latency per record inside the operator, milliseconds. */
    public static final String LATENCY_MS = "latency_ms";
    /** Error kinds with a counter registered up front. */
    public static final List<String> ERROR_KINDS = List.of("empty_input", "input_too_long", "invalid_record",
            "schema_violation", "timeout", "cancelled", "engine_failure");
    /** Samples kept by the latency histogram. */
    public static final int LATENCY_WINDOW = 1024;

    private InferenceMetrics() {}
}
