package dev.quarry.jobs;

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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fast stand-in engine for Flink-semantics tests: summarize/prompt upper-case the text, classify
 * labels by length parity, extract returns {"length": n}. Empty text -> empty_input, text over
 * {@link #MAX_CHARS} -> input_too_long. {@link #crashAt} makes the N-th submission throw an Error,
 * which fails the Flink task (a stand-in for a crashed TaskManager).
 */
public final class FakeEngine implements Engine {
    public static final int MAX_CHARS = 200;
    public static final AtomicInteger SUBMITTED = new AtomicInteger();
    /** Submission count at which to crash once (0 = never); reset to 0 after it fires. */
    public static final AtomicInteger crashAt = new AtomicInteger();
    /** When set, the next submission throws an Error (then it resets). */
    public static final java.util.concurrent.atomic.AtomicBoolean crashNow = new java.util.concurrent.atomic.AtomicBoolean();
    /** Milliseconds each result takes, so records are in flight inside the engine when a crash hits. */
    public static volatile int delayMs;

    private final ExecutorService pool = Executors.newFixedThreadPool(2);

    /** Engines the factory has opened: the subtasks of one job attempt share one (EngineRegistry), a restart opens another. */
    public static final AtomicInteger OPENED = new AtomicInteger();

    public static EngineFactory factory() {
        return (EngineOptions o) -> {
            OPENED.incrementAndGet();
            return new FakeEngine();
        };
    }

    @Override
    public CompletableFuture<TaskResult> submit(Task task, TaskInput in) {
        int n = SUBMITTED.incrementAndGet();
        if (crashAt.get() > 0 && n >= crashAt.get()) {
            crashAt.set(0);
            throw new AssertionError("injected crash at submission " + n);
        }
        if (crashNow.compareAndSet(true, false)) throw new AssertionError("injected crash (armed by the test) at submission " + n);
        return CompletableFuture.supplyAsync(() -> {
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            String t = in.text();
            if (t == null || t.isBlank()) return TaskResult.failed(in.id(), task.name(), new EngineError(ErrorKind.EMPTY_INPUT, "record " + in.id() + ": text is empty"), 0);
            if (t.length() > MAX_CHARS) return TaskResult.failed(in.id(), task.name(), new EngineError(ErrorKind.INPUT_TOO_LONG, "record " + in.id() + ": " + t.length() + " chars > " + MAX_CHARS), 0);
            return switch (task.name()) {
                case "classify" -> {
                    boolean even = t.length() % 2 == 0;
                    Map<String, Double> p = new LinkedHashMap<>();
                    p.put("even", even ? 0.8 : 0.2);
                    p.put("odd", even ? 0.2 : 0.8);
                    yield new TaskResult(in.id(), "classify", null, even ? "even" : "odd", p, null, null, t.length(), 1, FinishReason.values()[0], 1_000_000, null);
                }
                case "extract" -> new TaskResult(in.id(), "extract", null, null, null, "{\"length\":" + t.length() + "}",
                        Map.of("length", (long) t.length()), t.length(), 3, FinishReason.values()[0], 1_000_000, null);
                default -> new TaskResult(in.id(), task.name(), t.toUpperCase(), null, null, null, null, t.length(), t.length(), FinishReason.values()[0], 1_000_000, null);
            };
        }, pool);
    }

    @Override
    public CompletableFuture<GenerationResult> generate(GenerationRequest request) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ModelInfo modelInfo() {
        return new ModelInfo("fake", "/fake", "fakehash", "cpu", "f32", 0, 4096);
    }

    @Override
    public EngineStats stats() {
        return null;
    }

    @Override
    public TextCodec codec() {
        return null;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
