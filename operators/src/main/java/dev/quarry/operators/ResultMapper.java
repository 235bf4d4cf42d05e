package dev.quarry.operators;

import dev.quarry.engine.task.TaskResult;
import java.io.Serializable;

/**
 * Builds the output record from the input record, the engine's {@link TaskResult} (a result or an
 * {@code error}) and the result's {@link Lineage}. Called exactly once per input record, on success and on
 * every kind of error (invalid record, engine failure, timeout), so error results flow downstream as data.
 * If it throws on a successful result, it is called again with an {@code invalid_record} error result; if
 * it throws on an error result, the job fails (a bug in the mapper, reported with the record id).
 */
@FunctionalInterface
public interface ResultMapper<IN, OUT> extends Serializable {
    OUT map(IN record, TaskResult result, Lineage lineage) throws Exception;
}
