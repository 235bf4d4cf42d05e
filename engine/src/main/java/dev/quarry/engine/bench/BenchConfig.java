package dev.quarry.engine.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** What {@code quarry bench} runs. Immutable; validated in {@link Builder#build()}. */
public final class BenchConfig {
    public static final int DEFAULT_PROMPTS = 32;
    public static final int DEFAULT_PROMPT_TOKENS = 64;
    public static final int DEFAULT_NEW_TOKENS = 32;
    public static final int DEFAULT_INSTRUCTION_TOKENS = 300;
    public static final int DEFAULT_RECORD_TOKENS = 24;
    /**
     * Classification labels. With a checkpoint from {@code make-checkpoint} (byte-level tokenizer without merges) these
     * are 5-9 tokens each, where a real Granite tokenizer needs 1-2; {@code --labels A,B,C,D} gives the short case.
     */
    public static final List<String> DEFAULT_LABELS = List.of("billing", "technical", "account", "other");
    public static final List<String> ALL_WORKLOADS = List.of("generation", "classification", "extraction", "roofline");

    private final Path modelDir;
    private final String device;
    private final String dtype;
    private final int prompts;
    private final int promptTokens;
    private final int newTokens;
    private final int instructionTokens;
    private final int recordTokens;
    private final List<String> workloads;
    private final boolean sequential;
    private final long seed;
    private final List<String> labels;

    private BenchConfig(Builder b) {
        modelDir = b.modelDir; device = b.device; dtype = b.dtype; prompts = b.prompts; promptTokens = b.promptTokens;
        newTokens = b.newTokens; instructionTokens = b.instructionTokens; recordTokens = b.recordTokens;
        workloads = List.copyOf(b.workloads); sequential = b.sequential; seed = b.seed;
        labels = List.copyOf(b.labels);
    }

    public static Builder builder() { return new Builder(); }

    public Path modelDir() { return modelDir; }
    public String device() { return device; }
    public String dtype() { return dtype; }
    /** N: number of prompts / records per workload. */
    public int prompts() { return prompts; }
    /** P: prompt length of the generation workload. */
    public int promptTokens() { return promptTokens; }
    /** G: new tokens per prompt (ignore-eos). */
    public int newTokens() { return newTokens; }
    public int instructionTokens() { return instructionTokens; }
    public int recordTokens() { return recordTokens; }
    public List<String> workloads() { return workloads; }
    /** Also run each workload one request at a time (batch 1). */
    public boolean sequential() { return sequential; }
    public long seed() { return seed; }
    public List<String> labels() { return labels; }

    public static final class Builder {
        private Path modelDir;
        private String device = "cpu";
        private String dtype;
        private int prompts = DEFAULT_PROMPTS;
        private int promptTokens = DEFAULT_PROMPT_TOKENS;
        private int newTokens = DEFAULT_NEW_TOKENS;
        private int instructionTokens = DEFAULT_INSTRUCTION_TOKENS;
        private int recordTokens = DEFAULT_RECORD_TOKENS;
        private List<String> workloads = ALL_WORKLOADS;
        private boolean sequential = true;
        private long seed;
        private List<String> labels = DEFAULT_LABELS;

        public Builder modelDir(Path v) { modelDir = v; return this; }
        public Builder device(String v) { device = v; return this; }
        public Builder dtype(String v) { dtype = v; return this; }
        public Builder prompts(int v) { prompts = v; return this; }
        public Builder promptTokens(int v) { promptTokens = v; return this; }
        public Builder newTokens(int v) { newTokens = v; return this; }
        public Builder instructionTokens(int v) { instructionTokens = v; return this; }
        public Builder recordTokens(int v) { recordTokens = v; return this; }
        public Builder workloads(List<String> v) { workloads = v; return this; }
        public Builder sequential(boolean v) { sequential = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder labels(List<String> v) { labels = v; return this; }

        public BenchConfig build() {
            Objects.requireNonNull(modelDir, "model directory must be set");
            if (prompts < 1 || promptTokens < 1 || newTokens < 1 || instructionTokens < 1 || recordTokens < 1)
                throw new IllegalArgumentException("bench sizes must be >= 1");
            for (String w : workloads) {
                if (!ALL_WORKLOADS.contains(w))
                    throw new IllegalArgumentException("unknown workload '" + w + "', expected one of " + ALL_WORKLOADS);
            }
            if (labels == null || labels.size() < 2 || new java.util.HashSet<>(labels).size() != labels.size())
                throw new IllegalArgumentException("classification needs at least 2 distinct labels, got " + labels);
            return new BenchConfig(this);
        }
    }
}
