package dev.quarry.jobs;

import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;

/** Builds the engine {@link Task} a {@link ScoringSpec} describes (the task builders validate it). */
public final class TaskFactory {
    /** Labels used when a classify spec names none (the demo's sentiment labels). */
    public static final java.util.List<String> DEFAULT_LABELS = java.util.List.of("positive", "negative", "neutral");
    /** Schema used when an extract spec gives none. */
    public static final String DEFAULT_SCHEMA =
            "{\"type\":\"object\",\"properties\":{\"topic\":{\"type\":\"string\",\"maxLength\":32}},\"required\":[\"topic\"]}";
    /** Template used when a prompt spec gives none. */
    public static final String DEFAULT_TEMPLATE = "{text}";

    private TaskFactory() {}

    public static Task build(ScoringSpec spec) {
        return switch (spec.task()) {
            case SUMMARIZE -> SummarizeTask.builder().maxTokens(spec.maxNewTokens()).build();
            case CLASSIFY -> ClassifyTask.builder()
                    .labels(spec.labels() == null || spec.labels().isEmpty() ? DEFAULT_LABELS : spec.labels()).build();
            case EXTRACT -> ExtractTask.builder()
                    .schema(spec.schemaJson() == null || spec.schemaJson().isBlank() ? DEFAULT_SCHEMA : spec.schemaJson())
                    .build();
            case PROMPT -> PromptTask.builder()
                    .template(spec.template() == null || spec.template().isBlank() ? DEFAULT_TEMPLATE : spec.template())
                    .maxTokens(spec.maxNewTokens()).build();
        };
    }
}
