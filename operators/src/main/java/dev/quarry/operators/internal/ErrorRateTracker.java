package dev.quarry.operators.internal;

import dev.quarry.engine.ErrorKind;
import dev.quarry.operators.ErrorRateBound;
import java.util.Locale;

/** Applies an {@link ErrorRateBound} to one subtask's results. Thread-safe. */
public final class ErrorRateTracker {
    private final ErrorRateBound bound;
    private final boolean[] ring;
    private int next;
    private long seen;
    private int errorsInWindow;
    private long errors;
    private String violation;

    public ErrorRateTracker(ErrorRateBound bound) {
        this.bound = bound;
        this.ring = new boolean[bound.isNone() || bound.maxErrorFraction() < 0 ? 1 : bound.window()];
    }

    /**
     * Records one result ({@code kind} null for a success).
     *
     * @return null while within the bound, else a message saying what was exceeded
     */
    public synchronized String record(ErrorKind kind, String recordId, String errorMessage) {
        if (bound.isNone()) return null;
        if (violation != null) return violation; // sticky: later results report the first violation
        boolean counted = bound.counts(kind);
        seen++;
        if (counted) errors++;
        if (bound.maxErrorFraction() >= 0) {
            if (ring[next]) errorsInWindow--;
            ring[next] = counted;
            if (counted) errorsInWindow++;
            next = (next + 1) % ring.length;
        }
        String last = !counted ? "" : " Last error: " + kind.wireName() + ": "
                + (errorMessage != null && errorMessage.contains(recordId) ? errorMessage : "record '" + recordId + "': " + errorMessage)
                + (errorMessage != null && errorMessage.endsWith(".") ? "" : ".");
        if (bound.maxErrors() >= 0 && errors > bound.maxErrors()) {
            return violation = String.format(Locale.ROOT, "error rate bound exceeded: %d error results (kinds %s) on this subtask, more than the allowed %d.%s",
                    errors, bound.kinds(), bound.maxErrors(), last);
        }
        if (bound.maxErrorFraction() >= 0 && seen >= ring.length
                && errorsInWindow > bound.maxErrorFraction() * ring.length) {
            return violation = String.format(Locale.ROOT, "error rate bound exceeded: %d of the last %d results were errors (%.1f%% > %.1f%% allowed, kinds %s).%s",
                    errorsInWindow, ring.length, 100.0 * errorsInWindow / ring.length, 100.0 * bound.maxErrorFraction(), bound.kinds(), last);
        }
        return null;
    }
}
