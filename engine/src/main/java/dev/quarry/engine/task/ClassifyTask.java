package dev.quarry.engine.task;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Classification by label scoring: the prompt is prefilled once, the state is forked per label, and
 * each label's tokens (followed by {@code <|end_of_text|>}) are scored by their summed log-probability.
 * The result is the best label plus a softmax-normalised probability for every label (summing to 1).
 * No free text is generated or parsed. Immutable; build with {@link #builder()}.
 */
public final class ClassifyTask implements Task {
    public static final String DEFAULT_INSTRUCTION =
            "Classify the text into exactly one of the following labels. Answer with the label only.";

    /** A label and an optional description shown to the model. */
    public record Label(String name, String description) {
        public Label {
            Objects.requireNonNull(name, "label name");
        }
    }

    private final List<Label> labels;
    private final String instruction;
    private final String systemPrompt;

    private ClassifyTask(Builder b) {
        this.labels = List.copyOf(b.labels);
        this.instruction = b.instruction;
        this.systemPrompt = b.systemPrompt;
    }

    public static Builder builder() { return new Builder(); }

    @Override
    public String name() { return "classify"; }

    public List<Label> labels() { return labels; }

    public List<String> labelNames() { return labels.stream().map(Label::name).toList(); }

    public String instruction() { return instruction; }

    public String systemPrompt() { return systemPrompt; }

    @Override
    public String describeDecoding() {
        return "label-scoring sum-logprob(label + end_of_text) softmax labels=" + labelNames();
    }

    @Override
    public String toString() { return "ClassifyTask{" + describeDecoding() + "}"; }

    public static final class Builder {
        private final List<Label> labels = new ArrayList<>();
        private String instruction = DEFAULT_INSTRUCTION;
        private String systemPrompt;

        public Builder label(String name) { labels.add(new Label(name, null)); return this; }
        public Builder label(String name, String description) { labels.add(new Label(name, description)); return this; }
        public Builder labels(List<String> names) { names.forEach(this::label); return this; }
        public Builder instruction(String v) { this.instruction = v; return this; }
        public Builder systemPrompt(String v) { this.systemPrompt = v; return this; }

        public ClassifyTask build() {
            if (labels.isEmpty()) throw new IllegalArgumentException("classify: at least one label is required");
            if (instruction == null || instruction.isBlank())
                throw new IllegalArgumentException("classify: instruction must not be blank");
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < labels.size(); i++) {
                String n = labels.get(i).name();
                if (n.isBlank()) throw new IllegalArgumentException("classify: label #" + i + " is blank");
                if (!n.equals(n.strip()))
                    throw new IllegalArgumentException("classify: label '" + n + "' has leading or trailing whitespace");
                if (!seen.add(n)) throw new IllegalArgumentException("classify: duplicate label '" + n + "'");
            }
            return new ClassifyTask(this);
        }
    }
}
