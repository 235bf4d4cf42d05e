package dev.quarry.operators;

import dev.quarry.engine.task.Task;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * Builds the {@link Task} on each subtask. Tasks are immutable but not serializable (an extract task holds
 * a compiled JSON grammar), so the job graph carries this recipe instead, e.g.
 * {@code () -> SummarizeTask.builder().maxTokens(64).build()}. It must return an equivalent task every time;
 * {@link InferenceOperator.Builder#build()} calls it once up front so a bad task definition fails when the
 * job is built, not on the TaskManager.
 */
@FunctionalInterface
public interface TaskSupplier extends Supplier<Task>, Serializable {}
