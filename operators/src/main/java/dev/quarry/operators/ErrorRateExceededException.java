package dev.quarry.operators;

import org.apache.flink.runtime.throwable.ThrowableAnnotation;
import org.apache.flink.runtime.throwable.ThrowableType;

/**
 * Thrown (failing the job) when results break the configured {@link ErrorRateBound}. Marked non-recoverable:
 * the restart strategy does not restart the job for it, since replaying the same records would fail the
 * same way.
 */
@ThrowableAnnotation(ThrowableType.NonRecoverableError)
public final class ErrorRateExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ErrorRateExceededException(String message) {
        super(message);
    }
}
