package dev.quarry.jobs;

import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;

/** Builds the engine {@link Task} a {@link ScoringSpec} describes. */
public final class TaskFactory {
    private TaskFactory() {}

    public static Task build(ScoringSpec spec) {
        // TODO(tasks): switch to the task builders (labels, schema, template, max new tokens) when they land.
        return switch (spec.task()) {
            case SUMMARIZE -> new SummarizeTask();
            case CLASSIFY -> new ClassifyTask();
            case EXTRACT -> new ExtractTask();
            case PROMPT -> new PromptTask();
        };
    }
}
