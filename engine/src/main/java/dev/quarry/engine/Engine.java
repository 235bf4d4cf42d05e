package dev.quarry.engine;

import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.util.concurrent.CompletableFuture;

/**
 * A loaded Granite model behind a continuous-batching scheduler.
 *
 * <p>Thread-safe: any number of callers may submit concurrently; one scheduler loop owns the model
 * and forms batches. Record-level problems (empty text, input too long, schema violation, timeout)
 * complete the future <em>normally</em> with a {@link TaskResult} whose {@code error()} is set; the
 * future completes exceptionally only when the engine itself cannot accept work (closed, or the queue
 * is full under {@link BatchingOptions.QueueFullPolicy#FAIL_FAST}).
 *
 * <p>Greedy results do not depend on what else is in the batch.
 */
public interface Engine extends AutoCloseable {

    /** Loads the checkpoint named by {@code options} and starts the scheduler loop. */
    static Engine open(EngineOptions options) {
        return EngineLoader.open(options);
    }

    /** Runs a task on one record. */
    CompletableFuture<TaskResult> submit(Task task, TaskInput input);

    /** Raw generation on token ids (the {@code quarry generate} path). */
    CompletableFuture<GenerationResult> generate(GenerationRequest request);

    /** What is loaded: name, weight hash, dtype, device. */
    ModelInfo modelInfo();

    /** A snapshot of counters and gauges for metrics. */
    EngineStats stats();

    /** Tokenizer and chat template of the loaded checkpoint. */
    TextCodec codec();

    /** Fails pending requests, stops the loop, frees native memory. Idempotent. */
    @Override
    void close();
}
