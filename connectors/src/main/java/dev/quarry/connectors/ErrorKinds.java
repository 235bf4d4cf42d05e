package dev.quarry.connectors;

/**
 * Error kind wire names used by the connectors. They match the engine's {@code ErrorKind.wireName()}
 * values; connectors do not depend on the engine, so the names are repeated here.
 */
public final class ErrorKinds {
    public static final String INVALID_RECORD = "invalid_record";
    public static final String EMPTY_INPUT = "empty_input";
    public static final String INPUT_TOO_LONG = "input_too_long";
    public static final String SCHEMA_VIOLATION = "schema_violation";
    public static final String TIMEOUT = "timeout";
    public static final String ENGINE_FAILURE = "engine_failure";
    /**
     * A result larger than the Kafka producer may send ({@code max.request.size}); connectors-only: the
     * results sink writes it to the dead-letter topic instead (see {@code ResultSerializer}).
     */
    public static final String OUTPUT_TOO_LARGE = "output_too_large";

    private ErrorKinds() {}
}
