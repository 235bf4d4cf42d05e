package dev.quarry.engine;

import java.util.Objects;

/** A record-level failure: a kind and a message naming the record. */
public record EngineError(ErrorKind kind, String message) {
    public EngineError {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }
}
