package dev.quarry.engine.internal.task;

import dev.quarry.engine.EngineError;
import dev.quarry.engine.ErrorKind;

/** A per-record failure (empty text, missing field, too long): becomes an error result, never kills a batch. */
public final class RecordException extends Exception {
    private final ErrorKind kind;

    public RecordException(ErrorKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public ErrorKind kind() { return kind; }

    public EngineError toError() { return new EngineError(kind, getMessage()); }
}
