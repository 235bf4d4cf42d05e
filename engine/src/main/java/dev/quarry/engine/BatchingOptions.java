package dev.quarry.engine;

import java.time.Duration;

/**
 * Every batching knob in one place. Admission is by budget (tokens per prefill step, total state
 * bytes of live sequences), not by a record count.
 */
public final class BatchingOptions {
    /** Most prompt tokens prefilled in one scheduler step. */
    public static final int DEFAULT_MAX_PREFILL_TOKENS = 2048;
    /** Most sequences decoded together. */
    public static final int DEFAULT_MAX_ACTIVE_SEQUENCES = 64;
    /** Budget for per-sequence state (Mamba conv+SSM, attention K/V) of all live sequences. */
    public static final long DEFAULT_STATE_BUDGET_BYTES = 4L << 30;
    /** Longest prompt + generation a sequence may reach, in tokens. */
    public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 4096;
    /** Requests waiting for admission. */
    public static final int DEFAULT_QUEUE_CAPACITY = 1024;
    /** Per-request timeout; {@link Duration#ZERO} means none. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ZERO;

    /** What {@code submit} does when the queue is full. */
    public enum QueueFullPolicy {
        /** Block the caller until there is room (back-pressure). */
        BLOCK,
        /** Fail the returned future at once with {@link java.util.concurrent.RejectedExecutionException}. */
        FAIL_FAST
    }

    private final int maxPrefillTokens;
    private final int maxActiveSequences;
    private final long stateBudgetBytes;
    private final int maxSequenceLength;
    private final int queueCapacity;
    private final QueueFullPolicy queueFullPolicy;
    private final Duration requestTimeout;
    private final boolean truncateInput;

    private BatchingOptions(Builder b) {
        this.maxPrefillTokens = b.maxPrefillTokens;
        this.maxActiveSequences = b.maxActiveSequences;
        this.stateBudgetBytes = b.stateBudgetBytes;
        this.maxSequenceLength = b.maxSequenceLength;
        this.queueCapacity = b.queueCapacity;
        this.queueFullPolicy = b.queueFullPolicy;
        this.requestTimeout = b.requestTimeout;
        this.truncateInput = b.truncateInput;
    }

    public static BatchingOptions defaults() { return builder().build(); }

    public static Builder builder() { return new Builder(); }

    public int maxPrefillTokens() { return maxPrefillTokens; }
    public int maxActiveSequences() { return maxActiveSequences; }
    public long stateBudgetBytes() { return stateBudgetBytes; }
    public int maxSequenceLength() { return maxSequenceLength; }
    public int queueCapacity() { return queueCapacity; }
    public QueueFullPolicy queueFullPolicy() { return queueFullPolicy; }
    public Duration requestTimeout() { return requestTimeout; }
    /** When true, record text that would exceed the budget is cut instead of failing with input_too_long. */
    public boolean truncateInput() { return truncateInput; }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchingOptions b && b.toString().equals(toString());
    }

    @Override
    public int hashCode() { return toString().hashCode(); }

    /** Every field by name; equal options print equally (the engine registry keys on it). */
    @Override
    public String toString() {
        return "BatchingOptions{maxPrefillTokens=" + maxPrefillTokens + ", maxActiveSequences=" + maxActiveSequences
                + ", stateBudgetBytes=" + stateBudgetBytes + ", maxSequenceLength=" + maxSequenceLength
                + ", queueCapacity=" + queueCapacity + ", queueFullPolicy=" + queueFullPolicy
                + ", requestTimeout=" + requestTimeout + ", truncateInput=" + truncateInput + '}';
    }

    public static final class Builder {
        private int maxPrefillTokens = DEFAULT_MAX_PREFILL_TOKENS;
        private int maxActiveSequences = DEFAULT_MAX_ACTIVE_SEQUENCES;
        private long stateBudgetBytes = DEFAULT_STATE_BUDGET_BYTES;
        private int maxSequenceLength = DEFAULT_MAX_SEQUENCE_LENGTH;
        private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
        private QueueFullPolicy queueFullPolicy = QueueFullPolicy.BLOCK;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private boolean truncateInput;

        public Builder maxPrefillTokens(int v) { this.maxPrefillTokens = v; return this; }
        public Builder maxActiveSequences(int v) { this.maxActiveSequences = v; return this; }
        public Builder stateBudgetBytes(long v) { this.stateBudgetBytes = v; return this; }
        public Builder maxSequenceLength(int v) { this.maxSequenceLength = v; return this; }
        public Builder queueCapacity(int v) { this.queueCapacity = v; return this; }
        public Builder queueFullPolicy(QueueFullPolicy v) { this.queueFullPolicy = v; return this; }
        public Builder requestTimeout(Duration v) { this.requestTimeout = v; return this; }
        public Builder truncateInput(boolean v) { this.truncateInput = v; return this; }

        public BatchingOptions build() {
            if (maxPrefillTokens < 1) throw new IllegalArgumentException("maxPrefillTokens must be >= 1");
            if (maxActiveSequences < 1) throw new IllegalArgumentException("maxActiveSequences must be >= 1");
            if (stateBudgetBytes < 1) throw new IllegalArgumentException("stateBudgetBytes must be >= 1");
            if (maxSequenceLength < 2) throw new IllegalArgumentException("maxSequenceLength must be >= 2");
            if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be >= 1");
            if (queueFullPolicy == null) throw new IllegalArgumentException("queueFullPolicy must be set");
            if (requestTimeout == null || requestTimeout.isNegative())
                throw new IllegalArgumentException("requestTimeout must be >= 0");
            return new BatchingOptions(this);
        }
    }
}
