package dev.quarry.engine.task;

import dev.quarry.engine.EngineError;
import dev.quarry.engine.FinishReason;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a task on one record. Exactly one of "a result" and {@link #error()} is set.
 *
 * <ul>
 *   <li>summarize / prompt: {@link #text()}
 *   <li>classify: {@link #label()} and {@link #probabilities()} (every label, summing to 1)
 *   <li>extract: {@link #json()} (validates against the schema) and {@link #fields()} (typed values:
 *       String, Long, Double, Boolean, List, or null)
 * </ul>
 */
public record TaskResult(
        String id,
        String task,
        String text,
        String label,
        Map<String, Double> probabilities,
        String json,
        Map<String, Object> fields,
        int promptTokens,
        int generatedTokens,
        FinishReason finishReason,
        long latencyNanos,
        EngineError error) {

    public TaskResult {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(task, "task");
    }

    public boolean isError() { return error != null; }

    public static TaskResult failed(String id, String task, EngineError error, long latencyNanos) {
        return new TaskResult(id, task, null, null, null, null, null, 0, 0, null, latencyNanos, error);
    }
}
