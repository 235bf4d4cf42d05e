package dev.quarry.engine;

import java.util.List;

/**
 * Decoding parameters. Greedy by default ({@code temperature == 0}); with {@code temperature > 0}
 * sampling is seeded per request, so the same request always gives the same output.
 */
public final class SamplingParams {
    public static final int DEFAULT_MAX_NEW_TOKENS = 64;
    public static final float DEFAULT_TEMPERATURE = 0f;
    public static final float DEFAULT_TOP_P = 1f;
    public static final int DEFAULT_TOP_K = 0;
    public static final long DEFAULT_SEED = 0L;

    private final int maxNewTokens;
    private final float temperature;
    private final float topP;
    private final int topK;
    private final long seed;
    private final boolean ignoreEos;
    private final List<String> stopStrings;

    private SamplingParams(Builder b) {
        this.maxNewTokens = b.maxNewTokens;
        this.temperature = b.temperature;
        this.topP = b.topP;
        this.topK = b.topK;
        this.seed = b.seed;
        this.ignoreEos = b.ignoreEos;
        this.stopStrings = List.copyOf(b.stopStrings);
    }

    public static SamplingParams greedy() { return builder().build(); }

    public static Builder builder() { return new Builder(); }

    public Builder toBuilder() {
        return builder().maxNewTokens(maxNewTokens).temperature(temperature).topP(topP).topK(topK)
                .seed(seed).ignoreEos(ignoreEos).stopStrings(stopStrings);
    }

    public int maxNewTokens() { return maxNewTokens; }
    public float temperature() { return temperature; }
    public float topP() { return topP; }
    /** 0 means no top-k cut. */
    public int topK() { return topK; }
    /** The seed of an {@code Engine.generate} request; a task's records sample with their own {@code TaskInput.seed}. */
    public long seed() { return seed; }
    public boolean ignoreEos() { return ignoreEos; }
    public List<String> stopStrings() { return stopStrings; }
    public boolean isGreedy() { return temperature == 0f; }

    @Override
    public String toString() {
        return "SamplingParams{maxNewTokens=" + maxNewTokens + ", temperature=" + temperature + ", topP=" + topP
                + ", topK=" + topK + ", seed=" + seed + ", ignoreEos=" + ignoreEos + ", stop=" + stopStrings + '}';
    }

    public static final class Builder {
        private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
        private float temperature = DEFAULT_TEMPERATURE;
        private float topP = DEFAULT_TOP_P;
        private int topK = DEFAULT_TOP_K;
        private long seed = DEFAULT_SEED;
        private boolean ignoreEos;
        private List<String> stopStrings = List.of();

        public Builder maxNewTokens(int v) { this.maxNewTokens = v; return this; }
        public Builder temperature(float v) { this.temperature = v; return this; }
        public Builder topP(float v) { this.topP = v; return this; }
        public Builder topK(int v) { this.topK = v; return this; }
        public Builder seed(long v) { this.seed = v; return this; }
        public Builder ignoreEos(boolean v) { this.ignoreEos = v; return this; }
        public Builder stopStrings(List<String> v) { this.stopStrings = List.copyOf(v); return this; }

        public SamplingParams build() {
            if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
            if (!(temperature >= 0f) || Float.isInfinite(temperature))
                throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
            if (!(topP > 0f && topP <= 1f)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            if (topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
            for (String s : stopStrings) {
                if (s == null || s.isEmpty()) throw new IllegalArgumentException("stop strings must be non-empty");
            }
            return new SamplingParams(this);
        }
    }
}
