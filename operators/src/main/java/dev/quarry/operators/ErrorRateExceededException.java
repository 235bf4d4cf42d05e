package dev.quarry.operators;

/** Thrown (failing the job) when results break the configured {@link ErrorRateBound}. */
public final class ErrorRateExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ErrorRateExceededException(String message) {
        super(message);
    }
}
