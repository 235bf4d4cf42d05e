package dev.quarry.operators;

import dev.quarry.engine.ErrorKind;
import java.io.Serializable;
import java.util.EnumSet;
import java.util.Set;

/**
 * When too many records fail, fail the job with a clear message instead of writing a dead-letter output
 * full of errors (a wrong model path for a prompt field, a schema nobody can satisfy, ...).
 *
 * <p>Two independent limits, each off unless set:
 * <ul>
 *   <li>{@link Builder#maxErrorFraction(double)}: more than this fraction of the last
 *       {@link Builder#window(int) window} results of one subtask were errors. Checked once the subtask has
 *       produced at least {@code window} results, so a single early error never trips it.
 *   <li>{@link Builder#maxErrors(long)}: more than this many errors in total on one subtask.
 * </ul>
 * Only error kinds in {@link Builder#kinds} count (default: every kind). Counts are per subtask and per
 * attempt: they start again after a restart. The default operator bound is {@link #none()}: errors are
 * data and never fail the job.
 */
public final class ErrorRateBound implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Results considered by the fraction limit when no window is given. */
    public static final int DEFAULT_WINDOW = 1000;
    private static final ErrorRateBound NONE = new ErrorRateBound(-1, DEFAULT_WINDOW, -1, EnumSet.allOf(ErrorKind.class));

    private final double maxErrorFraction;
    private final int window;
    private final long maxErrors;
    private final EnumSet<ErrorKind> kinds;

    private ErrorRateBound(double maxErrorFraction, int window, long maxErrors, EnumSet<ErrorKind> kinds) {
        this.maxErrorFraction = maxErrorFraction;
        this.window = window;
        this.maxErrors = maxErrors;
        this.kinds = kinds;
    }

    /** No bound: the job never fails because of error results (the default). */
    public static ErrorRateBound none() { return NONE; }

    public static Builder builder() { return new Builder(); }

    /** Fails the job when more than {@code fraction} of the last {@code window} results were errors. */
    public static ErrorRateBound fraction(double fraction, int window) {
        return builder().maxErrorFraction(fraction).window(window).build();
    }

    /** Fails the job when a subtask has produced more than {@code maxErrors} error results. */
    public static ErrorRateBound absolute(long maxErrors) {
        return builder().maxErrors(maxErrors).build();
    }

    public boolean isNone() { return maxErrorFraction < 0 && maxErrors < 0; }
    /** The fraction limit, or a negative number when off. */
    public double maxErrorFraction() { return maxErrorFraction; }
    public int window() { return window; }
    /** The absolute limit, or a negative number when off. */
    public long maxErrors() { return maxErrors; }
    public Set<ErrorKind> kinds() { return EnumSet.copyOf(kinds); }
    public boolean counts(ErrorKind kind) { return kind != null && kinds.contains(kind); }

    @Override
    public String toString() {
        if (isNone()) return "ErrorRateBound{none}";
        return "ErrorRateBound{" + (maxErrorFraction >= 0 ? "maxErrorFraction=" + maxErrorFraction + " of last " + window + ", " : "")
                + (maxErrors >= 0 ? "maxErrors=" + maxErrors + ", " : "") + "kinds=" + kinds + '}';
    }

    public static final class Builder {
        private double maxErrorFraction = -1;
        private int window = DEFAULT_WINDOW;
        private long maxErrors = -1;
        private EnumSet<ErrorKind> kinds = EnumSet.allOf(ErrorKind.class);

        /** In [0, 1): fail when the error share of the last {@link #window} results is above it. */
        public Builder maxErrorFraction(double v) { this.maxErrorFraction = v; return this; }
        /** Number of most recent results the fraction is taken over (>= 1, default {@value #DEFAULT_WINDOW}). */
        public Builder window(int v) { this.window = v; return this; }
        /** >= 0: fail when a subtask has produced more errors than this. */
        public Builder maxErrors(long v) { this.maxErrors = v; return this; }
        /** The error kinds that count (default: all). */
        public Builder kinds(Set<ErrorKind> v) {
            if (v == null || v.isEmpty()) throw new IllegalArgumentException("error rate bound: kinds must not be empty");
            this.kinds = EnumSet.copyOf(v);
            return this;
        }

        public ErrorRateBound build() {
            if (maxErrorFraction != -1 && !(maxErrorFraction >= 0 && maxErrorFraction < 1)) {
                throw new IllegalArgumentException("error rate bound: maxErrorFraction must be in [0, 1), got " + maxErrorFraction);
            }
            if (window < 1) throw new IllegalArgumentException("error rate bound: window must be >= 1, got " + window);
            if (maxErrors != -1 && maxErrors < 0) throw new IllegalArgumentException("error rate bound: maxErrors must be >= 0, got " + maxErrors);
            if (maxErrorFraction < 0 && maxErrors < 0) {
                throw new IllegalArgumentException("error rate bound: set maxErrorFraction and/or maxErrors (or use ErrorRateBound.none())");
            }
            return new ErrorRateBound(maxErrorFraction, window, maxErrors, kinds);
        }
    }
}
