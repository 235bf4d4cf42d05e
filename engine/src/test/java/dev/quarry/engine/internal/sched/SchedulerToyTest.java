package dev.quarry.engine.internal.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.GraniteEngine;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import dev.quarry.engine.internal.decode.json.JsonOutput;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Scheduling semantics on a toy NDArray model (the real-model tests are in GraniteEngineTest). */
class SchedulerToyTest {
    static final ModelInfo INFO = new ModelInfo("toy", "/toy", "0", "cpu", "f32", 0, 512);

    static GraniteEngine engine(BatchingOptions o, long delayMs) {
        return new GraniteEngine(new ToyModel(7, delayMs), new ToyCodec(), INFO, o);
    }

    static int[] randomIds(Random r, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 32 + r.nextInt(90);
        return ids;
    }

    @Test
    void batchingEqualsOneByOne() throws Exception {
        Random r = new Random(1);
        List<GenerationRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            SamplingParams.Builder sp = SamplingParams.builder().maxNewTokens(1 + r.nextInt(12));
            if (i % 3 == 0) sp.ignoreEos(true);
            if (i % 5 == 0) sp.temperature(0.8f).seed(i);
            if (i % 7 == 0) sp.stopStrings(List.of("e"));
            reqs.add(new GenerationRequest("r" + i, randomIds(r, 1 + r.nextInt(20)), sp.build(), i % 4 == 0));
        }
        List<GenerationResult> alone = new ArrayList<>();
        try (GraniteEngine e = engine(BatchingOptions.builder().maxActiveSequences(1).build(), 0)) {
            for (GenerationRequest q : reqs) alone.add(e.generate(q).get(30, TimeUnit.SECONDS));
        }
        try (GraniteEngine e = engine(BatchingOptions.builder().maxActiveSequences(8).maxPrefillTokens(40).build(), 0)) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (GenerationRequest q : reqs) fs.add(e.generate(q));
            for (int i = 0; i < reqs.size(); i++) {
                GenerationResult b = fs.get(i).get(30, TimeUnit.SECONDS);
                GenerationResult a = alone.get(i);
                assertNull(b.error());
                assertArrayEquals(a.ids(), b.ids(), "request " + i);
                assertEquals(a.finishReason(), b.finishReason(), "request " + i);
                assertEquals(a.text(), b.text());
                // fp32 rounding: MKL's kernels (AVX-512 on AMD too, MklCpuDispatch) block a batch differently
                if (i % 4 == 0) assertArrayEquals(a.logitsLast(), b.logitsLast(), 1e-4f);
                assertTrue(b.ids().length <= reqs.get(i).sampling().maxNewTokens());
            }
            assertTrue(e.stats().stepCount() > 0);
            assertTrue(e.stats().generatedTokens() > 0);
            assertEquals(24, e.stats().completedRequests());
        }
    }

    @Test
    void sharedPrefixEqualsFullPromptAndTasksWork() throws Exception {
        try (GraniteEngine e = engine(BatchingOptions.defaults(), 0)) {
            SummarizeTask sum = SummarizeTask.builder().maxTokens(10).build();
            var p = dev.quarry.engine.internal.task.TaskPrompter.of(sum, e.codec());
            for (int i = 0; i < 5; i++) {
                TaskInput in = TaskInput.of("s" + i, "Some text number " + i + " to summarize.");
                TaskResult t = e.submit(sum, in).get(30, TimeUnit.SECONDS);
                assertNull(t.error());
                int[] full = concat(p.prefixIds(), p.suffixIds(in));
                GenerationResult g = e.generate(new GenerationRequest("g" + i, full,
                        SamplingParams.builder().maxNewTokens(10).build(), false)).get(30, TimeUnit.SECONDS);
                assertEquals(g.text(), t.text());
                assertEquals(g.ids().length, t.generatedTokens());
                assertTrue(t.finishReason() == FinishReason.EOS || t.finishReason() == FinishReason.LENGTH);
                assertEquals(full.length, t.promptTokens());
            }
            assertEquals(1, e.cachedPrefixes());

            // many distinct prefixes arriving together: prefilled in one batch, each record equals its full prompt
            List<SummarizeTask> tasks = new ArrayList<>();
            List<CompletableFuture<TaskResult>> tfs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                tasks.add(SummarizeTask.builder().instruction("Instruction variant " + i + " " + "z".repeat(i)).maxTokens(6).build());
                tfs.add(e.submit(tasks.get(i), TaskInput.of("d" + i, "text " + i)));
            }
            for (int i = 0; i < 20; i++) {
                var pp = dev.quarry.engine.internal.task.TaskPrompter.of(tasks.get(i), e.codec());
                int[] full = concat(pp.prefixIds(), pp.suffixIds(TaskInput.of("d" + i, "text " + i)));
                GenerationResult g = e.generate(new GenerationRequest("gd" + i, full,
                        SamplingParams.builder().maxNewTokens(6).build(), false)).get(30, TimeUnit.SECONDS);
                assertEquals(g.text(), tfs.get(i).get(30, TimeUnit.SECONDS).text(), "distinct prefix " + i);
            }
            assertTrue(e.cachedPrefixes() <= dev.quarry.engine.internal.sched.SchedulerCore.PREFIX_CACHE_ENTRIES + 1);

            ClassifyTask cls = ClassifyTask.builder().label("alpha").label("beta", "the second").label("gamma").label("al").build();
            for (int i = 0; i < 4; i++) {
                TaskResult t = e.submit(cls, TaskInput.of("c" + i, "classify me " + i)).get(30, TimeUnit.SECONDS);
                assertNull(t.error());
                assertEquals(List.of("alpha", "beta", "gamma", "al"), List.copyOf(t.probabilities().keySet()));
                double sum2 = t.probabilities().values().stream().mapToDouble(Double::doubleValue).sum();
                assertEquals(1.0, sum2, 1e-9);
                double best = t.probabilities().values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
                assertEquals(best, t.probabilities().get(t.label()), 0);
            }

            ExtractTask ex = ExtractTask.builder().schema("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},"
                    + "\"n\":{\"type\":\"integer\"},\"ok\":{\"type\":[\"boolean\",\"null\"]},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"x\",\"y\"]}}},"
                    + "\"required\":[\"name\"]}").sampling(SamplingParams.builder().temperature(1.0f).build()).build();
            JsonOutput out = new JsonOutput(ex.schema(), ex.spec());
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            for (int i = 0; i < 12; i++) fs.add(e.submit(ex, new TaskInput("x" + i, "extract " + i, Map.of(), i)));
            for (var f : fs) {
                TaskResult t = f.get(30, TimeUnit.SECONDS);
                assertNull(t.error(), () -> String.valueOf(t.error()));
                assertNull(out.violations(t.json()), t.json());
                assertTrue(t.fields().get("name") instanceof String);
                assertEquals(FinishReason.STRUCTURE_COMPLETE, t.finishReason());
            }

            PromptTask pt = PromptTask.builder().template("Title: {title}\n{text}").fields(List.of("title")).maxTokens(5).build();
            TaskResult bad = e.submit(pt, TaskInput.of("p0", "body")).get(30, TimeUnit.SECONDS);
            assertEquals(ErrorKind.INVALID_RECORD, bad.error().kind());
            assertTrue(bad.error().message().contains("'title'"));
            TaskResult good = e.submit(pt, new TaskInput("p1", "body", Map.of("title", "T"), 0)).get(30, TimeUnit.SECONDS);
            assertNull(good.error());
        }
    }

    @Test
    void distinctTaskPrefixesArrivingTogetherArePrefilledWithinTheTokenBudget() throws Exception {
        ToyModel model = new ToyModel(7, 0);
        int budget = 160;
        try (GraniteEngine e = new GraniteEngine(model, new ToyCodec(), INFO, BatchingOptions.builder().maxPrefillTokens(budget).build())) {
            List<SummarizeTask> tasks = new ArrayList<>();
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            int prefixTokens = 0;
            for (int i = 0; i < 12; i++) {
                tasks.add(SummarizeTask.builder().instruction("Distinct instruction number " + i + " for this task.").maxTokens(3).build());
                int n = dev.quarry.engine.internal.task.TaskPrompter.of(tasks.get(i), e.codec()).prefixIds().length;
                assertTrue(n <= budget, "prefix of " + n + " tokens");
                prefixTokens += n;
                fs.add(e.submit(tasks.get(i), TaskInput.of("p" + i, "text " + i)));
            }
            assertTrue(prefixTokens > 2 * budget, "the prefixes together exceed the budget: " + prefixTokens);
            for (var f : fs) assertNull(f.get(30, TimeUnit.SECONDS).error());
            assertTrue(model.largestPrefill <= budget, "largest prefill " + model.largestPrefill + " tokens");
        }
    }

    @Test
    void badRecordsGetErrorsAndTheBatchGoesOn() throws Exception {
        BatchingOptions o = BatchingOptions.builder().maxSequenceLength(200).build();
        try (GraniteEngine e = engine(o, 0)) {
            SummarizeTask sum = SummarizeTask.builder().maxTokens(4).build();
            CompletableFuture<TaskResult> empty = e.submit(sum, TaskInput.of("empty", "  "));
            CompletableFuture<TaskResult> tooLong = e.submit(sum, TaskInput.of("long", "x".repeat(500)));
            CompletableFuture<TaskResult> ok = e.submit(sum, TaskInput.of("ok", "fine"));
            assertEquals(ErrorKind.EMPTY_INPUT, empty.get().error().kind());
            assertEquals(ErrorKind.INPUT_TOO_LONG, tooLong.get().error().kind());
            assertTrue(tooLong.get().error().message().contains("'long'"));
            assertNull(ok.get(30, TimeUnit.SECONDS).error());
        }
        BatchingOptions trunc = BatchingOptions.builder().maxSequenceLength(200).truncateInput(true).build();
        try (GraniteEngine e = engine(trunc, 0)) {
            TaskResult t = e.submit(SummarizeTask.builder().maxTokens(4).build(), TaskInput.of("long", "x".repeat(500)))
                    .get(30, TimeUnit.SECONDS);
            assertNull(t.error());
            assertTrue(t.promptTokens() + t.generatedTokens() <= 200);
        }
    }

    @Test
    void faultInOneRequestDoesNotPoisonOthers() throws Exception {
        try (GraniteEngine e = engine(BatchingOptions.defaults(), 0)) {
            e.setFaultInjector(id -> { if (id.equals("boom")) throw new IllegalStateException("injected"); });
            SamplingParams sp = SamplingParams.builder().maxNewTokens(6).ignoreEos(true).build();
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 5; i++) fs.add(e.generate(new GenerationRequest(i == 2 ? "boom" : "g" + i, new int[] {40 + i, 50}, sp, false)));
            for (int i = 0; i < 5; i++) {
                GenerationResult g = fs.get(i).get(30, TimeUnit.SECONDS);
                if (i == 2) {
                    assertEquals(ErrorKind.ENGINE_FAILURE, g.error().kind());
                    assertTrue(g.error().message().contains("injected"));
                } else {
                    assertNull(g.error());
                    assertEquals(6, g.ids().length);
                }
            }
            e.setFaultInjector(null);
            assertNull(e.generate(new GenerationRequest("after", new int[] {41}, sp, false)).get(30, TimeUnit.SECONDS).error());
        }
    }

    /**
     * queueCapacity bounds the requests waiting for admission: with one long request holding the only active slot,
     * submissions beyond the scheduler's waiting list (queueCapacity) and the hand-off queue (queueCapacity) are
     * rejected (FAIL_FAST). Each submission is followed by two scheduler iterations (counted by the per-step hook),
     * so the scheduler has had every chance to move it out of the queue. Before, the scheduler moved every queued
     * request into an unbounded waiting list and the queue never filled.
     */
    @Test
    void queueCapacityBoundsTheWaitingRequests() throws Exception {
        int cap = 2;
        BatchingOptions o = BatchingOptions.builder().queueCapacity(cap).maxActiveSequences(1).maxSequenceLength(1 << 20)
                .queueFullPolicy(BatchingOptions.QueueFullPolicy.FAIL_FAST).build();
        java.util.concurrent.Semaphore steps = new java.util.concurrent.Semaphore(0);
        try (GraniteEngine e = engine(o, 0)) {
            e.setFaultInjector(id -> { if (id.equals("long")) steps.release(); });
            SamplingParams forever = SamplingParams.builder().maxNewTokens(1 << 19).ignoreEos(true).build();
            CompletableFuture<GenerationResult> longOne = e.generate(new GenerationRequest("long", new int[] {40}, forever, false));
            assertTrue(steps.tryAcquire(2, 30, TimeUnit.SECONDS), "the long request runs");
            SamplingParams shortRun = SamplingParams.builder().maxNewTokens(2).ignoreEos(true).build();
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                fs.add(e.generate(new GenerationRequest("w" + i, new int[] {41}, shortRun, false)));
                assertTrue(steps.tryAcquire(2, 30, TimeUnit.SECONDS), "scheduler iterations go on");
            }
            long rejected = fs.stream().filter(f -> f.isCompletedExceptionally()
                    && f.handle((v, x) -> x instanceof RejectedExecutionException).join()).count();
            // how many of the 10 got in depends on how many the loop had moved from the queue to its waiting list
            // between submissions: at least the queue's capacity, at most that plus the waiting list's
            assertTrue(rejected >= 10 - 2 * cap && rejected <= 10 - cap,
                    rejected + " rejected: at most queueCapacity waiting plus queueCapacity queued");
            assertTrue(e.stats().queueDepth() <= 2 * cap, "queue depth " + e.stats().queueDepth());
            assertTrue(longOne.cancel(true));
            // which ones were accepted depends on when the loop moved requests from the queue to its waiting list
            for (CompletableFuture<GenerationResult> f : fs) {
                if (!f.isCompletedExceptionally()) assertEquals(2, f.get(30, TimeUnit.SECONDS).ids().length);
            }
        }
    }

    /**
     * Futures complete on the scheduler thread, so a caller chaining submissions in a callback submits from it. With
     * BLOCK and a full queue that thread waited for itself to drain the queue: the engine hung. Now those
     * submissions are rejected and the engine goes on.
     */
    @Test
    void submittingFromAFutureCallbackWithAFullQueueDoesNotHangTheEngine() throws Exception {
        int cap = 2;
        BatchingOptions o = BatchingOptions.builder().queueCapacity(cap).build(); // BLOCK
        try (GraniteEngine e = engine(o, 0)) {
            SamplingParams sp = SamplingParams.builder().maxNewTokens(2).ignoreEos(true).build();
            java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
            e.setFaultInjector(id -> {
                if (id.equals("first")) {
                    try { attached.await(); } catch (InterruptedException x) { throw new IllegalStateException(x); }
                }
            });
            List<CompletableFuture<GenerationResult>> chained = java.util.Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<GenerationResult> first = e.generate(new GenerationRequest("first", new int[] {40}, sp, false));
            CompletableFuture<Integer> callback = first
                    .thenApply(r -> {
                        for (int i = 0; i < 3 * cap; i++) {
                            chained.add(e.generate(new GenerationRequest("chained-" + i, new int[] {41}, sp, false)));
                        }
                        return chained.size();
                    });
            attached.countDown(); // "first" completes only now, on the scheduler thread, which runs the callback
            assertEquals(3 * cap, callback.get(30, TimeUnit.SECONDS));
            int done = 0, rejected = 0;
            for (CompletableFuture<GenerationResult> f : chained) {
                try {
                    assertEquals(2, f.get(30, TimeUnit.SECONDS).ids().length);
                    done++;
                } catch (ExecutionException x) {
                    assertInstanceOf(RejectedExecutionException.class, x.getCause());
                    assertTrue(x.getCause().getMessage().contains("scheduler thread"), x.getCause().getMessage());
                    rejected++;
                }
            }
            assertEquals(cap, done, "the queue's capacity went through");
            assertEquals(2 * cap, rejected);
            assertNull(e.generate(new GenerationRequest("after", new int[] {42}, sp, false)).get(30, TimeUnit.SECONDS).error());
        }
    }

    /**
     * close() from a future callback (on the scheduler thread) returns at once and the loop closes the model when it
     * ends; it joined the scheduler thread from itself for 60 s, then closed the model under the running loop.
     */
    @Test
    void closeFromAFutureCallbackReturnsAndClosesTheEngine() throws Exception {
        ToyModel model = new ToyModel(7, 0);
        GraniteEngine e = new GraniteEngine(model, new ToyCodec(), INFO, BatchingOptions.defaults());
        SamplingParams sp = SamplingParams.builder().maxNewTokens(2).ignoreEos(true).build();
        java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
        e.setFaultInjector(id -> {
            try { attached.await(); } catch (InterruptedException x) { throw new IllegalStateException(x); }
        });
        CompletableFuture<GenerationResult> first = e.generate(new GenerationRequest("first", new int[] {40}, sp, false));
        CompletableFuture<Void> closed = first.thenRun(e::close);
        attached.countDown();
        closed.get(30, TimeUnit.SECONDS);
        assertEquals(2, first.get().ids().length);
        assertTrue(e.generate(new GenerationRequest("late", new int[] {41}, sp, false)).isCompletedExceptionally());
        e.close(); // idempotent, from another thread
    }

    /** A failed model call fails the rows of that call with engine_failure naming each one's record. */
    @Test
    void failedDecodeCallNamesEachRecord() throws Exception {
        ToyModel model = new ToyModel(7, 0);
        model.failNextDecode = new IllegalStateException("native out of memory");
        try (GraniteEngine e = new GraniteEngine(model, new ToyCodec(), INFO, BatchingOptions.defaults())) {
            SamplingParams sp = SamplingParams.builder().maxNewTokens(6).ignoreEos(true).build();
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) fs.add(e.generate(new GenerationRequest("rec-" + i, new int[] {40 + i, 50}, sp, false)));
            int failed = 0;
            for (int i = 0; i < 3; i++) {
                GenerationResult g = fs.get(i).get(30, TimeUnit.SECONDS);
                if (g.error() == null) continue;
                failed++;
                assertEquals(ErrorKind.ENGINE_FAILURE, g.error().kind());
                assertTrue(g.error().message().contains("'rec-" + i + "'") && g.error().message().contains("native out of memory"),
                        g.error().message());
            }
            assertTrue(failed >= 1, "the first decode step failed");
        }
    }

    @Test
    void timeoutCancelFailFastAndClose() throws Exception {
        SamplingParams slow = SamplingParams.builder().maxNewTokens(1000).ignoreEos(true).build();
        BatchingOptions o = BatchingOptions.builder().requestTimeout(Duration.ofMillis(300)).build();
        try (GraniteEngine e = engine(o, 20)) {
            GenerationResult t = e.generate(new GenerationRequest("t", new int[] {40}, slow, false)).get(30, TimeUnit.SECONDS);
            assertEquals(ErrorKind.TIMEOUT, t.error().kind());
        }
        try (GraniteEngine e = engine(BatchingOptions.defaults(), 5)) {
            CompletableFuture<GenerationResult> c = e.generate(new GenerationRequest("c", new int[] {40}, slow, false));
            CompletableFuture<GenerationResult> other = e.generate(new GenerationRequest("o", new int[] {41},
                    SamplingParams.builder().maxNewTokens(20).ignoreEos(true).build(), false));
            Thread.sleep(100);
            assertTrue(c.cancel(true));
            assertEquals(20, other.get(30, TimeUnit.SECONDS).ids().length);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (e.stats().activeSequences() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(0, e.stats().activeSequences(), "cancelled sequence was removed");
            assertThrows(CancellationException.class, c::join);
        }
        BatchingOptions ff = BatchingOptions.builder().queueCapacity(1).maxActiveSequences(1)
                .queueFullPolicy(BatchingOptions.QueueFullPolicy.FAIL_FAST).build();
        GraniteEngine e = engine(ff, 20);
        List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
        for (int i = 0; i < 10; i++) fs.add(e.generate(new GenerationRequest("f" + i, new int[] {40}, slow, false)));
        long rejected = fs.stream().filter(f -> f.isCompletedExceptionally()
                && f.handle((v, x) -> x instanceof RejectedExecutionException).join()).count();
        assertTrue(rejected >= 1, "FAIL_FAST rejects when the queue is full");
        e.close();
        for (var f : fs) {
            ExecutionException x = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertNotNull(x.getCause());
        }
        assertTrue(e.generate(new GenerationRequest("late", new int[] {40}, slow, false)).isCompletedExceptionally());
    }

    @Test
    void admissionCountsTheRectangularStateOfThePool() throws Exception {
        // toy state: 64 bytes per row + 8 per token. The long request reserves 1000 tokens (8064 bytes); a short
        // one 20 tokens (224 bytes). Each short fits beside the long one by its own size (8064 + 6 x 224 < 20000),
        // but in the pool every row gets the longest row's columns: long + 1 short = 2 x 8064 fits, + 2 does not.
        BatchingOptions o = BatchingOptions.builder().stateBudgetBytes(20_000).build();
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        try (GraniteEngine e = engine(o, 0)) {
            e.setFaultInjector(events::add);
            SamplingParams longRun = SamplingParams.builder().maxNewTokens(990).ignoreEos(true).build();
            SamplingParams shortRun = SamplingParams.builder().maxNewTokens(15).ignoreEos(true).build();
            CompletableFuture<GenerationResult> big = e.generate(new GenerationRequest("long", randomIds(new Random(2), 10), longRun, false));
            List<CompletableFuture<GenerationResult>> shorts = new ArrayList<>();
            for (int i = 0; i < 6; i++) shorts.add(e.generate(new GenerationRequest("s" + i, randomIds(new Random(i), 5), shortRun, false)));
            for (var f : shorts) assertEquals(15, f.get(60, TimeUnit.SECONDS).ids().length);
            assertEquals(990, big.get(60, TimeUnit.SECONDS).ids().length);
            List<String> seen;
            synchronized (events) { seen = new ArrayList<>(events); }
            // while the long one runs, the shorts run one at a time: their token events never interleave
            List<String> order = new ArrayList<>();
            for (String id : seen) {
                if (id.equals("long")) continue;
                if (order.isEmpty() || !order.get(order.size() - 1).equals(id)) order.add(id);
            }
            assertEquals(6, order.size(), "each short ran without another beside it: " + order);
            assertTrue(e.stats().stateBytes() <= 20_000 * 2, "pool bytes " + e.stats().stateBytes());
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
