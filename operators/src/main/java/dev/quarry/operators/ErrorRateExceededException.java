package dev.quarry.operators;

import org.apache.flink.runtime.throwable.ThrowableAnnotation;
import org.apache.flink.runtime.throwable.ThrowableType;

/**
 * Thrown (failing the job) when results break the configured {@link ErrorRateBound}. Marked non-recoverable:
 * the restart strategy does not restart the job for it, since replaying the same records would fail the
 * same way. One race remains in Flink itself: when a source's coordinator has an event in flight to the failing
 * task (a file split, "no more splits"), the lost event triggers an ordinary, restartable failover of that task,
 * which can win over this failure. The restarted attempt then meets the same records and fails the same way,
 * so the job still fails, after at most the configured number of restarts; if every attempt loses that race,
 * the job's final cause is the lost event's {@code TaskNotRunningException} and this message is only in the
 * task's log.
 */
@ThrowableAnnotation(ThrowableType.NonRecoverableError)
public final class ErrorRateExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ErrorRateExceededException(String message) {
        super(message);
    }
}
