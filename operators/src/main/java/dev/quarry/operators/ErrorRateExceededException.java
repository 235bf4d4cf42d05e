package dev.quarry.operators;

import org.apache.flink.runtime.throwable.ThrowableAnnotation;
import org.apache.flink.runtime.throwable.ThrowableType;

/**
 * Thrown (failing the job) when results break the configured {@link ErrorRateBound}. Marked non-recoverable:
 * the restart strategy does not restart the job for it, since replaying the same records would fail the
 * same way. One race remains in Flink itself: when a source's coordinator has an event in flight to the failing
 * task (a file split, "no more splits"), the lost event triggers an ordinary, restartable failover of that task,
 * which can win over this failure. The inference operator remembers the tripped bound in the TaskManager's JVM:
 * the restarted attempt of the same subtask fails in {@code open()} with the same message, before its chain's
 * source is opened or any record is read, so the job ends after that one restart with this exception. (If the
 * restarted attempt runs in another TaskManager, it replays records until the bound trips again.)
 */
@ThrowableAnnotation(ThrowableType.NonRecoverableError)
public final class ErrorRateExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ErrorRateExceededException(String message) {
        super(message);
    }
}
