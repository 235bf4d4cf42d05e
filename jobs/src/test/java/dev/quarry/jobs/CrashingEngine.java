package dev.quarry.jobs;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.util.concurrent.CompletableFuture;

/** Wraps any engine with {@link FakeEngine}'s crash triggers ({@code crashAt}, {@code crashNow}). */
final class CrashingEngine implements Engine {
    private final Engine inner;

    private CrashingEngine(Engine inner) {
        this.inner = inner;
    }

    static EngineFactory wrap(EngineFactory inner) {
        return (EngineOptions o) -> new CrashingEngine(inner.open(o));
    }

    @Override
    public CompletableFuture<TaskResult> submit(Task task, TaskInput input) {
        int n = FakeEngine.SUBMITTED.incrementAndGet();
        if (FakeEngine.crashAt.get() > 0 && n >= FakeEngine.crashAt.get()) {
            FakeEngine.crashAt.set(0);
            throw new AssertionError("injected crash at submission " + n);
        }
        if (FakeEngine.crashNow.compareAndSet(true, false)) throw new AssertionError("injected crash (armed by the test) at submission " + n);
        return inner.submit(task, input);
    }

    @Override public CompletableFuture<GenerationResult> generate(GenerationRequest request) { return inner.generate(request); }
    @Override public ModelInfo modelInfo() { return inner.modelInfo(); }
    @Override public EngineStats stats() { return inner.stats(); }
    @Override public TextCodec codec() { return inner.codec(); }
    @Override public void close() { inner.close(); }
}
