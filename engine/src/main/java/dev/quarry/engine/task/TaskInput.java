package dev.quarry.engine.task;

import java.util.Map;
import java.util.Objects;

/**
 * One record handed to a task: its id (carried to every output), its text, extra fields a
 * {@link PromptTask} template may name, and the seed used when the task samples.
 */
public record TaskInput(String id, String text, Map<String, String> fields, long seed) {
    public TaskInput {
        Objects.requireNonNull(id, "id");
        fields = fields == null ? Map.of() : Map.copyOf(fields);
    }

    public static TaskInput of(String id, String text) {
        return new TaskInput(id, text, Map.of(), 0L);
    }
}
