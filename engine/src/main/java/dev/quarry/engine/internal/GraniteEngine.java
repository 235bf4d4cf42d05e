package dev.quarry.engine.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineError;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.internal.decode.json.JsonConstraint;
import dev.quarry.engine.internal.decode.json.JsonOutput;
import dev.quarry.engine.internal.decode.json.TokenTrie;
import dev.quarry.engine.internal.sched.BatchState;
import dev.quarry.engine.internal.sched.RowSampler;
import dev.quarry.engine.internal.sched.SchedulerCore;
import dev.quarry.engine.internal.sched.StepModel;
import dev.quarry.engine.internal.task.RecordException;
import dev.quarry.engine.internal.task.TaskPrompter;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.util.concurrent.CompletableFuture;

/**
 * The DJL-backed engine: a {@link StepModel} (Granite on DJL/PyTorch) behind a continuous-batching
 * scheduler ({@link SchedulerCore}). One scheduler thread owns the model; {@link #submit} and
 * {@link #generate} are thread-safe, render and tokenize on the caller's thread, and return futures.
 */
public final class GraniteEngine implements Engine {
    private final SchedulerCore core;
    private final ModelInfo info;
    private final TextCodec codec;

    /** Wires an already loaded model and codec (tests use toy models here). */
    public GraniteEngine(StepModel model, TextCodec codec, ModelInfo info, BatchingOptions options) {
        this(model, codec, info, options, null);
    }

    /** @param tokenizerJson the checkpoint's tokenizer.json, for exact token bytes in constrained decoding (may be null) */
    public GraniteEngine(StepModel model, TextCodec codec, ModelInfo info, BatchingOptions options, java.nio.file.Path tokenizerJson) {
        this.codec = codec;
        this.info = info;
        this.core = new SchedulerCore(model, codec, options, info.name(), tokenizerJson);
    }

    /** Loads the checkpoint named by {@code options} and starts the scheduler loop. */
    public static Engine open(EngineOptions options) {
        System.setProperty("ai.djl.offline", "true");
        return GraniteLoader.open(options);
    }

    @Override
    public CompletableFuture<TaskResult> submit(Task task, TaskInput input) {
        return core.submit(task, input);
    }

    @Override
    public CompletableFuture<GenerationResult> generate(GenerationRequest request) {
        return core.generate(request);
    }

    @Override
    public ModelInfo modelInfo() { return info; }

    @Override
    public EngineStats stats() { return core.stats(); }

    @Override
    public TextCodec codec() { return codec; }

    /** Test hook: called with the request id while its step is processed; may throw to simulate a fault. */
    public void setFaultInjector(java.util.function.Consumer<String> hook) { core.setFaultInjector(hook); }

    /** Number of extract tasks whose constraint and output checker are cached (bounded). */
    public int cachedExtractTasks() { return core.cachedExtractTasks(); }

    /** Number of prefix states currently cached. */
    public int cachedPrefixes() { return core.cachedPrefixes(); }

    @Override
    public void close() { core.close(); }
}
