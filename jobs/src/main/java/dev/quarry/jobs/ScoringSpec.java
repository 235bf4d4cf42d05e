package dev.quarry.jobs;

import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.operators.ErrorRateBound;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What to run on each record, and with which model: the task and its parameters plus the engine
 * settings. Immutable and serializable (shipped to every task manager); validated in
 * {@link Builder#build()}.
 */
public final class ScoringSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_MAX_NEW_TOKENS = 64;
    /** In-flight records per operator subtask (Async I/O capacity). */
    public static final int DEFAULT_CAPACITY = 64;
    /** Per-record timeout inside the operator; a record over it becomes a {@code timeout} error. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    private final TaskKind task;
    private final List<String> labels;
    private final String schemaJson;
    private final String template;
    private final int maxNewTokens;
    private final String modelDir;
    private final String device;
    private final String dtype;
    private final int capacity;
    private final Duration timeout;
    private final boolean ordered;
    private final int maxSequenceLength;
    private final ErrorRateBound errorRateBound;

    private ScoringSpec(Builder b) {
        this.task = b.task;
        this.labels = b.labels == null ? List.of() : List.copyOf(b.labels);
        this.schemaJson = b.schemaJson;
        this.template = b.template;
        this.maxNewTokens = b.maxNewTokens;
        this.modelDir = b.modelDir.toAbsolutePath().toString();
        this.device = b.device;
        this.dtype = b.dtype;
        this.capacity = b.capacity;
        this.timeout = b.timeout;
        this.ordered = b.ordered;
        this.maxSequenceLength = b.maxSequenceLength;
        this.errorRateBound = b.errorRateBound;
    }

    public static Builder builder() { return new Builder(); }

    public TaskKind task() { return task; }
    public List<String> labels() { return labels; }
    public String schemaJson() { return schemaJson; }
    public String template() { return template; }
    public int maxNewTokens() { return maxNewTokens; }
    public Path modelDir() { return Path.of(modelDir); }
    public String device() { return device; }
    public String dtype() { return dtype; }
    public int capacity() { return capacity; }
    public Duration timeout() { return timeout; }
    /** Ordered Async I/O keeps input order per subtask; unordered (the default) emits as results finish. */
    public boolean ordered() { return ordered; }
    /** Longest prompt + generation per record, in tokens; a longer record fails with {@code input_too_long}. */
    public int maxSequenceLength() { return maxSequenceLength; }

    /** When error results fail the job (default {@link ErrorRateBound#none()}: never). */
    public ErrorRateBound errorRateBound() { return errorRateBound; }

    /** The engine options this spec asks for. */
    public dev.quarry.engine.EngineOptions engineOptions() {
        return dev.quarry.engine.EngineOptions.builder().modelDir(modelDir()).device(device).dtype(dtype)
                .batching(dev.quarry.engine.BatchingOptions.builder().maxSequenceLength(maxSequenceLength).build()).build();
    }

    @Override
    public String toString() {
        return "ScoringSpec{task=" + task.wireName() + ", model=" + modelDir + ", device=" + device + ", dtype="
                + (dtype != null ? dtype : (device != null && device.startsWith("cuda") ? "bf16" : "f32") + " (default)")
                + ", maxNewTokens=" + maxNewTokens + (labels.isEmpty() ? "" : ", labels=" + labels) + '}';
    }

    public static final class Builder {
        private TaskKind task;
        private List<String> labels;
        private String schemaJson;
        private String template;
        private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
        private Path modelDir;
        private String device = "cpu";
        private String dtype;
        private int capacity = DEFAULT_CAPACITY;
        private Duration timeout = DEFAULT_TIMEOUT;
        private boolean ordered;
        private int maxSequenceLength = dev.quarry.engine.BatchingOptions.DEFAULT_MAX_SEQUENCE_LENGTH;
        private ErrorRateBound errorRateBound = ErrorRateBound.none();

        public Builder errorRateBound(ErrorRateBound v) { this.errorRateBound = v; return this; }
        public Builder maxSequenceLength(int v) { this.maxSequenceLength = v; return this; }
        public Builder task(TaskKind v) { this.task = v; return this; }
        public Builder labels(List<String> v) { this.labels = v; return this; }
        public Builder schemaJson(String v) { this.schemaJson = v; return this; }
        public Builder template(String v) { this.template = v; return this; }
        public Builder maxNewTokens(int v) { this.maxNewTokens = v; return this; }
        public Builder modelDir(Path v) { this.modelDir = v; return this; }
        public Builder device(String v) { this.device = v; return this; }
        public Builder dtype(String v) { this.dtype = v; return this; }
        public Builder capacity(int v) { this.capacity = v; return this; }
        public Builder timeout(Duration v) { this.timeout = v; return this; }
        public Builder ordered(boolean v) { this.ordered = v; return this; }

        public ScoringSpec build() {
            Objects.requireNonNull(task, "task must be set (summarize, classify, extract or prompt)");
            Objects.requireNonNull(modelDir, "model directory must be set (--model DIR or --preset NAME)");
            if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
            if (maxSequenceLength < maxNewTokens + 1) throw new IllegalArgumentException("max sequence length (" + maxSequenceLength + ") must exceed max new tokens (" + maxNewTokens + ")");
            if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
            if (timeout == null || timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0");
            Objects.requireNonNull(errorRateBound, "errorRateBound must not be null (ErrorRateBound.none() for no bound)");
            switch (task) {
                case CLASSIFY -> {
                    if (labels == null || labels.size() < 2) throw new IllegalArgumentException("classify needs at least two labels (--labels a,b)");
                    if (labels.stream().distinct().count() != labels.size()) throw new IllegalArgumentException("labels must be distinct: " + labels);
                }
                case EXTRACT -> {
                    if (schemaJson == null || schemaJson.isBlank()) throw new IllegalArgumentException("extract needs a JSON schema (--schema FILE)");
                }
                case PROMPT -> {
                    if (template == null || template.isBlank()) throw new IllegalArgumentException("prompt needs a template (--template T)");
                }
                case SUMMARIZE -> { }
            }
            return new ScoringSpec(this);
        }
    }
}
