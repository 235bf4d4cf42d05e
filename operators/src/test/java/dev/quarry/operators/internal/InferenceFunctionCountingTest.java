package dev.quarry.operators.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import dev.quarry.operators.EngineFactory;
import dev.quarry.operators.ErrorRateBound;
import dev.quarry.operators.ErrorRateExceededException;
import dev.quarry.operators.QuarryMetrics;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobInfoImpl;
import org.apache.flink.api.common.TaskInfoImpl;
import org.apache.flink.api.common.functions.DefaultOpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A record that times out while the engine's answer is arriving is counted (metrics, error-rate bound) and
 * emitted exactly once, whichever of the two claims it first. Drives {@link InferenceFunction} directly, as
 * Flink's Async I/O operator would, with the interleavings that are hard to hit in a running job.
 */
@Timeout(60)
class InferenceFunctionCountingTest {

    /** An engine whose answers the test completes by hand. */
    static final class HandEngine implements Engine {
        static final Map<String, CompletableFuture<TaskResult>> FUTURES = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<TaskResult> submit(Task task, TaskInput in) {
            CompletableFuture<TaskResult> f = new CompletableFuture<>();
            FUTURES.put(in.id(), f);
            return f;
        }

        @Override public CompletableFuture<GenerationResult> generate(GenerationRequest request) { throw new UnsupportedOperationException(); }
        @Override public ModelInfo modelInfo() { return new ModelInfo("hand", "/hand", "hash-hand", "cpu", "float32", 0, 4096); }
        @Override public EngineStats stats() { return new EngineStats(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0); }
        @Override public TextCodec codec() { throw new UnsupportedOperationException(); }
        @Override public void close() {}
    }

    /** Metrics of the function, all in one flat map (the {@code quarry} sub-group is the group itself). */
    static final class Metrics extends InterceptingOperatorMetricGroup {
        @Override
        public MetricGroup addGroup(String name) {
            return this;
        }
    }

    /** Records every completion the function makes (Flink's own handler would ignore all but the first). */
    static final class Out implements ResultFuture<String> {
        final List<String> completions = new ArrayList<>();

        @Override public synchronized void complete(Collection<String> result) { completions.addAll(result); }
        @Override public synchronized void completeExceptionally(Throwable error) { completions.add("exception: " + error); }
        @Override public void complete(CollectionSupplier<String> supplier) {
            try {
                complete(supplier.get());
            } catch (Exception e) {
                completeExceptionally(e);
            }
        }
        synchronized List<String> all() { return List.copyOf(completions); }
    }

    /** The result mapper waits here for the record whose id starts with "slow" (on the thread completing it). */
    static final CountDownLatch MAPPER_ENTERED = new CountDownLatch(1);
    static final CountDownLatch MAPPER_RELEASE = new CountDownLatch(1);

    Metrics metrics;
    InferenceFunction<String, String> fn;

    /** The job the functions run in (one per test; a second function of the same job is a restarted attempt). */
    JobID job;

    @BeforeEach
    void open() throws Exception {
        HandEngine.FUTURES.clear();
        metrics = new Metrics();
        job = new JobID();
        fn = newFunction();
        fn.open(DefaultOpenContext.INSTANCE);
    }

    /** The function under test in subtask 0 of task "inference" of {@link #job}, not opened. */
    InferenceFunction<String, String> newFunction() {
        EngineFactory engines = (EngineOptions o) -> new HandEngine();
        InferenceFunction<String, String> fn = new InferenceFunction<>(() -> SummarizeTask.builder().maxTokens(4).build(),
                EngineOptionsSpec.of(EngineOptions.builder().modelDir(Path.of("/hand-models", "counting")).build()), engines,
                s -> TaskInput.of(s, "text of " + s),
                (s, r, lineage) -> {
                    if (s.startsWith("slow")) {
                        MAPPER_ENTERED.countDown();
                        MAPPER_RELEASE.await(30, TimeUnit.SECONDS);
                    }
                    return r.id() + "|" + (r.isError() ? r.error().kind().wireName() : r.text());
                },
                ErrorRateBound.absolute(25), Duration.ofSeconds(1)); // errors counted twice would exceed it in the 50-record test
        fn.setRuntimeContext((RuntimeContext) Proxy.newProxyInstance(RuntimeContext.class.getClassLoader(),
                new Class<?>[] {RuntimeContext.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getMetricGroup" -> metrics;
                    case "getExternalResourceInfos" -> Set.of();
                    case "getJobInfo" -> new JobInfoImpl(job, "counting");
                    case "getTaskInfo" -> new TaskInfoImpl("inference", 1, 0, 1, 0);
                    default -> throw new UnsupportedOperationException(m.getName());
                }));
        return fn;
    }

    @AfterEach
    void close() throws Exception {
        fn.close();
    }

    long count(String name) {
        return ((Counter) metrics.get(name)).getCount();
    }

    static TaskResult ok(String id) {
        return new TaskResult(id, "summarize", "answer", null, null, null, null, 3, 2, FinishReason.values()[0], 1000, null);
    }

    @Test
    void timeoutFirstThenTheLateAnswerCountsOnce() {
        Out out = new Out();
        fn.asyncInvoke("late", out);
        fn.timeout("late", out);
        // the engine's answer arrives after the timeout
        HandEngine.FUTURES.get("late").complete(ok("late"));

        assertEquals(List.of("late|timeout"), out.all(), "one output: the timeout");
        assertEquals(1, count(QuarryMetrics.RECORDS_IN));
        assertEquals(1, count(QuarryMetrics.RECORDS_OUT));
        assertEquals(1, count(QuarryMetrics.ERRORS));
        assertEquals(1, count(QuarryMetrics.errors(ErrorKind.TIMEOUT)));
        assertEquals(0, count(QuarryMetrics.GENERATED_TOKENS), "the late answer's tokens are not counted");
        assertEquals(1, ((Histogram) metrics.get(QuarryMetrics.LATENCY_MS)).getCount());
        assertEquals(0, ((Gauge<?>) metrics.get(QuarryMetrics.IN_FLIGHT)).getValue());
    }

    @Test
    void answerBeingDeliveredWhenTheTimerFiresCountsOnce() throws Exception {
        Out out = new Out();
        fn.asyncInvoke("slow-1", out);
        // the engine thread claims the record and is inside the result mapper (not yet completed Flink's future)...
        Thread engineThread = new Thread(() -> HandEngine.FUTURES.get("slow-1").complete(ok("slow-1")), "engine");
        engineThread.start();
        assertTrue(MAPPER_ENTERED.await(30, TimeUnit.SECONDS));
        // ...when Flink's timer fires: the handler is not completed yet, so Flink calls timeout()
        fn.timeout("slow-1", out);
        MAPPER_RELEASE.countDown();
        engineThread.join();

        assertEquals(List.of("slow-1|answer"), out.all(), "one output: the answer");
        assertEquals(1, count(QuarryMetrics.RECORDS_IN));
        assertEquals(1, count(QuarryMetrics.RECORDS_OUT));
        assertEquals(0, count(QuarryMetrics.ERRORS));
        assertEquals(0, count(QuarryMetrics.errors(ErrorKind.TIMEOUT)));
        assertEquals(2, count(QuarryMetrics.GENERATED_TOKENS));
        assertEquals(1, ((Histogram) metrics.get(QuarryMetrics.LATENCY_MS)).getCount());
        assertEquals(0, ((Gauge<?>) metrics.get(QuarryMetrics.IN_FLIGHT)).getValue());
        assertNull(HandEngine.FUTURES.get("slow-1").isCancelled() ? "cancelled" : null, "a delivered answer is not cancelled");
    }

    @Test
    void manyRecordsWithTimeoutsAndLateAnswersCountEachOnce() {
        List<Out> outs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Out out = new Out();
            outs.add(out);
            fn.asyncInvoke("r" + i, out);
        }
        for (int i = 0; i < 50; i++) {
            if (i % 2 == 0) {
                HandEngine.FUTURES.get("r" + i).complete(ok("r" + i));
                fn.timeout("r" + i, outs.get(i));       // a timer that fired right after the answer: no-op
            } else {
                fn.timeout("r" + i, outs.get(i));
                HandEngine.FUTURES.get("r" + i).complete(ok("r" + i));  // late answer: dropped
            }
        }
        for (int i = 0; i < 50; i++) assertEquals(1, outs.get(i).all().size(), "record r" + i + ": " + outs.get(i).all());
        assertEquals(50, count(QuarryMetrics.RECORDS_OUT));
        assertEquals(25, count(QuarryMetrics.errors(ErrorKind.TIMEOUT)));
        assertEquals(25, count(QuarryMetrics.ERRORS));
        assertEquals(50, count(QuarryMetrics.GENERATED_TOKENS));
        assertEquals(0, ((Gauge<?>) metrics.get(QuarryMetrics.IN_FLIGHT)).getValue());
    }

    @Test
    void aRestartedAttemptOfASubtaskWhoseBoundTrippedFailsInOpen() throws Exception {
        Out out = new Out();
        for (int i = 0; i < 26; i++) { // the fixture's bound allows 25 errors
            fn.asyncInvoke("t" + i, out);
            fn.timeout("t" + i, out);
        }
        assertTrue(out.all().get(25).startsWith("exception: " + ErrorRateExceededException.class.getName()), out.all().get(25));
        InferenceFunction<String, String> again = newFunction(); // Flink restarting the subtask (same job, task, index)
        ErrorRateExceededException e = assertThrows(ErrorRateExceededException.class, () -> again.open(DefaultOpenContext.INSTANCE));
        assertTrue(e.getMessage().contains("more than the allowed 25") && e.getMessage().contains("earlier attempt"), e.getMessage());
        job = new JobID(); // another job with the same operator opens normally
        InferenceFunction<String, String> other = newFunction();
        other.open(DefaultOpenContext.INSTANCE);
        other.close();
    }
}
