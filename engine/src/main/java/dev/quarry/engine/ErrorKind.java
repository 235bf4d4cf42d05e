package dev.quarry.engine;

/** Why a record failed. The wire name ({@link #wireName()}) is what outputs and metrics carry. */
public enum ErrorKind {
    EMPTY_INPUT,
    INPUT_TOO_LONG,
    INVALID_RECORD,
    SCHEMA_VIOLATION,
    TIMEOUT,
    CANCELLED,
    ENGINE_FAILURE;

    /** Lower-case name, e.g. {@code input_too_long}. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
