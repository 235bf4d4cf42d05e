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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Wraps any engine with {@link FakeEngine}'s crash triggers ({@code crashAt}, {@code crashNow}) and a
 * condition-based one: {@link #crashWhen} is checked at every submission and, when it returns a description
 * (not null), the submission throws an {@link AssertionError} (which fails the Flink task, as a crashed
 * TaskManager would), the description goes to {@link #CRASHES} and the condition is cleared.
 */
final class CrashingEngine implements Engine {
    /** Condition on the wrapped engine, evaluated at each submission; null = none. Fires once. */
    static final AtomicReference<Function<CrashingEngine, String>> crashWhen = new AtomicReference<>();
    /** Descriptions of the condition-based crashes that fired, in order. */
    static final List<String> CRASHES = new CopyOnWriteArrayList<>();

    private final Engine inner;
    private final java.util.concurrent.atomic.AtomicInteger outstanding = new java.util.concurrent.atomic.AtomicInteger();

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
        Function<CrashingEngine, String> when = crashWhen.get();
        String why = when == null ? null : when.apply(this);
        if (why != null && crashWhen.compareAndSet(when, null)) {
            CRASHES.add(why);
            throw new AssertionError("injected crash at submission " + n + ": " + why);
        }
        outstanding.incrementAndGet();
        CompletableFuture<TaskResult> f = inner.submit(task, input);
        f.whenComplete((r, e) -> outstanding.decrementAndGet());
        return f;
    }

    /** Requests submitted to the wrapped engine whose result has not come back yet (queued or in its current batch). */
    int outstanding() {
        return outstanding.get();
    }

    Engine inner() {
        return inner;
    }

    @Override public CompletableFuture<GenerationResult> generate(GenerationRequest request) { return inner.generate(request); }
    @Override public ModelInfo modelInfo() { return inner.modelInfo(); }
    @Override public EngineStats stats() { return inner.stats(); }
    @Override public TextCodec codec() { return inner.codec(); }
    @Override public void close() { inner.close(); }
}
