package dev.quarry.jobs;

import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;

/** Builds the engine {@link Task} a {@link ScoringSpec} describes (the task builders validate it). */
public final class TaskFactory {
    private TaskFactory() {}

    public static Task build(ScoringSpec spec) {
        return switch (spec.task()) {
            case SUMMARIZE -> SummarizeTask.builder().maxTokens(spec.maxNewTokens()).build();
            case CLASSIFY -> ClassifyTask.builder().labels(spec.labels()).build();
            case EXTRACT -> ExtractTask.builder().schema(spec.schemaJson()).build();
            case PROMPT -> PromptTask.builder().template(spec.template()).maxTokens(spec.maxNewTokens()).build();
        };
    }
}
