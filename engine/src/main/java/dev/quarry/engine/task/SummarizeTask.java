package dev.quarry.engine.task;

import dev.quarry.engine.SamplingParams;
import java.util.Objects;

/**
 * Summarization: instruction + record text -> generated text. Generation stops at
 * {@code <|end_of_text|>}, a stop string, or {@link SamplingParams#maxNewTokens()}.
 * Immutable; build with {@link #builder()}.
 */
public final class SummarizeTask implements Task {
    public static final String DEFAULT_INSTRUCTION =
            "Summarize the following text in a few sentences. Reply with the summary only.";
    public static final int DEFAULT_MAX_TOKENS = 128;

    private final String instruction;
    private final String systemPrompt;
    private final SamplingParams sampling;

    private SummarizeTask(Builder b) {
        this.instruction = b.instruction;
        this.systemPrompt = b.systemPrompt;
        this.sampling = b.sampling;
    }

    public static Builder builder() { return new Builder(); }

    /** A summarize task with every default. */
    public static SummarizeTask defaults() { return builder().build(); }

    @Override
    public String name() { return "summarize"; }

    public String instruction() { return instruction; }

    /** System turn content, or null for the chat template's default. */
    public String systemPrompt() { return systemPrompt; }

    public SamplingParams sampling() { return sampling; }

    @Override
    public String describeDecoding() { return TaskDescriptions.generation(sampling); }

    @Override
    public String toString() { return "SummarizeTask{" + describeDecoding() + "}"; }

    public static final class Builder {
        private String instruction = DEFAULT_INSTRUCTION;
        private String systemPrompt;
        private SamplingParams sampling;
        private Integer maxTokens;

        public Builder instruction(String v) { this.instruction = v; return this; }
        public Builder systemPrompt(String v) { this.systemPrompt = v; return this; }
        /** Decoding parameters; greedy with {@link #DEFAULT_MAX_TOKENS} when not set. */
        public Builder sampling(SamplingParams v) { this.sampling = v; return this; }
        /** Overrides {@link SamplingParams#maxNewTokens()}. */
        public Builder maxTokens(int v) { this.maxTokens = v; return this; }

        public SummarizeTask build() {
            Objects.requireNonNull(instruction, "instruction");
            if (instruction.isBlank()) throw new IllegalArgumentException("summarize: instruction must not be blank");
            SamplingParams s = sampling != null ? sampling : SamplingParams.builder().maxNewTokens(DEFAULT_MAX_TOKENS).build();
            if (maxTokens != null) {
                if (maxTokens < 1) throw new IllegalArgumentException("summarize: maxTokens must be >= 1, got " + maxTokens);
                s = s.toBuilder().maxNewTokens(maxTokens).build();
            }
            this.sampling = s;
            return new SummarizeTask(this);
        }
    }
}
