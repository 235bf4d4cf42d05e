package dev.quarry.operators;

/**
 * Thrown by an {@link InputMapper} for a record that a source already found invalid (unparseable, missing
 * its text, a wrong type): the record becomes an {@code invalid_record} result with exactly this message and
 * record id, and counts toward the operator's {@link ErrorRateBound} like every other error result.
 */
public final class InvalidRecordException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String recordId;

    /**
     * @param recordId the record's id, or {@code null} when the source could not tell it
     * @param message why the record is invalid; it should name the record (file and row, or topic and offset)
     */
    public InvalidRecordException(String recordId, String message) {
        super(message);
        this.recordId = recordId;
    }

    /** The record's id, or {@code null}. */
    public String recordId() { return recordId; }
}
