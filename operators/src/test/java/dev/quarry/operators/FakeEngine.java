package dev.quarry.operators;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineError;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in engine for Flink-semantics tests: the result text is {@code len=<chars>}, prompt
 * tokens = text length, generated tokens = 1; empty text gives {@code empty_input}. Behaviour per record id
 * comes from the text prefix: {@code fail:} completes exceptionally, {@code throw:} throws from submit,
 * {@code stuck:} never completes, {@code hold:} completes only after every other submitted record did.
 * State shared with the test is static (one JVM: the MiniCluster runs in the test JVM).
 */
final class FakeEngine implements Engine {
    static final AtomicInteger OPENS = new AtomicInteger();
    static final AtomicInteger CLOSES = new AtomicInteger();
    static final AtomicInteger SUBMITTED = new AtomicInteger();
    static final AtomicInteger IN_FLIGHT = new AtomicInteger();
    static final AtomicInteger MAX_IN_FLIGHT = new AtomicInteger();
    static final AtomicInteger CANCELLED = new AtomicInteger();
    /** Submission number at which submit throws an {@link InjectedCrash} once (0 = never). */
    static final AtomicInteger CRASH_AT = new AtomicInteger();
    static final AtomicBoolean CRASHED = new AtomicBoolean();
    /** Set by the test once a checkpoint completed; the crash waits for it (so the restore path is exercised). */
    static final AtomicBoolean CHECKPOINT_DONE = new AtomicBoolean();
    static final ConcurrentHashMap<String, AtomicInteger> SUBMISSIONS_BY_ID = new ConcurrentHashMap<>();

    static void reset() {
        OPENS.set(0);
        CLOSES.set(0);
        SUBMITTED.set(0);
        IN_FLIGHT.set(0);
        MAX_IN_FLIGHT.set(0);
        CANCELLED.set(0);
        CRASH_AT.set(0);
        CRASHED.set(false);
        CHECKPOINT_DONE.set(false);
        SUBMISSIONS_BY_ID.clear();
    }

    /** Thrown to crash the Flink task (not a record error). */
    static final class InjectedCrash extends Error {
        InjectedCrash(String m) { super(m); }
    }

    /** How the fake behaves; serializable so it travels in the job graph. */
    record Config(int delayMs, int holdUntil) implements Serializable {}

    static EngineFactory factory(int delayMs) {
        return factory(new Config(delayMs, 0));
    }

    static EngineFactory factory(Config c) {
        return (EngineOptions o) -> new FakeEngine(o, c);
    }

    private final EngineOptions options;
    private final Config config;
    private final ScheduledExecutorService pool = Executors.newScheduledThreadPool(2);
    private final AtomicInteger completed = new AtomicInteger();
    private final CountDownLatch others;
    private volatile boolean closed;

    FakeEngine(EngineOptions options, Config config) {
        this.options = options;
        this.config = config;
        this.others = new CountDownLatch(Math.max(0, config.holdUntil()));
        OPENS.incrementAndGet();
    }

    @Override
    public CompletableFuture<TaskResult> submit(Task task, TaskInput in) {
        if (closed) throw new IllegalStateException("engine closed");
        int n = SUBMITTED.incrementAndGet();
        SUBMISSIONS_BY_ID.computeIfAbsent(in.id(), k -> new AtomicInteger()).incrementAndGet();
        if (CRASH_AT.get() > 0 && n >= CRASH_AT.get() && CHECKPOINT_DONE.get() && CRASHED.compareAndSet(false, true)) {
            throw new InjectedCrash("injected crash at submission " + n);
        }
        String t = in.text() == null ? "" : in.text();
        if (t.startsWith("throw:")) throw new IllegalStateException("submit rejected " + in.id());
        int now = IN_FLIGHT.incrementAndGet();
        MAX_IN_FLIGHT.accumulateAndGet(now, Math::max);
        CompletableFuture<TaskResult> f = new CompletableFuture<>();
        f.whenComplete((r, e) -> {
            if (f.isCancelled()) {
                IN_FLIGHT.decrementAndGet();
                CANCELLED.incrementAndGet();
            }
        });
        if (t.startsWith("stuck:")) return f;
        Runnable answer = () -> {
            if (t.startsWith("fail:")) {
                IN_FLIGHT.decrementAndGet();
                f.completeExceptionally(new RuntimeException("fake engine failure on " + in.id()));
                return;
            }
            IN_FLIGHT.decrementAndGet(); // before completing: the operator may submit the next record at once
            if (t.isEmpty()) {
                f.complete(TaskResult.failed(in.id(), task.name(), new EngineError(ErrorKind.EMPTY_INPUT, "record " + in.id() + ": text is empty"), 1000));
                return;
            }
            f.complete(new TaskResult(in.id(), task.name(), "len=" + t.length(), null, null, null, null,
                    t.length(), 1, FinishReason.values()[0], 1000, null));
        };
        if (t.startsWith("hold:")) {
            pool.execute(() -> {
                try {
                    others.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                answer.run();
            });
        } else {
            Runnable counted = () -> {
                if (config.holdUntil() > 0) {
                    // a held record must complete after this one's result is on its way: wait (bounded) until the
                    // operator has attached its callback (the fake's own cancel watcher is the first dependent), else
                    // this completion would run the callback later, on the operator's thread, after the held one's
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (f.getNumberOfDependents() < 2 && System.nanoTime() < until) Thread.onSpinWait();
                }
                answer.run();
                completed.incrementAndGet();
                others.countDown();
            };
            if (config.delayMs() > 0) pool.schedule(counted, config.delayMs(), TimeUnit.MILLISECONDS);
            else pool.execute(counted);
        }
        return f;
    }

    @Override
    public CompletableFuture<GenerationResult> generate(GenerationRequest request) {
        throw new UnsupportedOperationException("fake engine");
    }

    @Override
    public ModelInfo modelInfo() {
        return new ModelInfo("fake-" + options.modelDir().getFileName(), options.modelDir().toString(), "hash-fake", options.device(), options.dtype(), 0, 4096);
    }

    @Override
    public EngineStats stats() {
        return new EngineStats(0, 0, completed.get(), 0, 0, IN_FLIGHT.get(), 64, 1234, 0, 77, 5_000_000);
    }

    @Override
    public TextCodec codec() {
        throw new UnsupportedOperationException("fake engine");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CLOSES.incrementAndGet();
            pool.shutdownNow();
        }
    }

    static Map<String, Integer> submissionsById() {
        Map<String, Integer> m = new java.util.TreeMap<>();
        SUBMISSIONS_BY_ID.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }
}
