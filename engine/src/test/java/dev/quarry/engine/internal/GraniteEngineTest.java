package dev.quarry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.checkpoint.CheckpointMaker;
import dev.quarry.engine.internal.model.GraniteModel;
import dev.quarry.engine.internal.model.ModelState;
import dev.quarry.engine.internal.task.TaskPrompter;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole engine through {@link Engine#open} on tiny checkpoints written by {@link CheckpointMaker}
 * (tiny-hybrid: mamba + attention, NoPE; tiny-moe: MoE; tiny-rope: RoPE attention): batching never
 * changes greedy results, shared-prefix state is exact, the three tasks keep their contracts, and
 * per-record problems, cancellation, timeouts and close() stay per record.
 */
class GraniteEngineTest {
    static final String[] PRESETS = {"tiny-hybrid", "tiny-moe", "tiny-rope"};
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    @BeforeAll
    static void makeCheckpoints() throws Exception {
        long seed = 3;
        for (String p : PRESETS) CheckpointMaker.make(p, seed++, dir.resolve(p), CheckpointMaker.DTYPE_F32, 1);
    }

    static Engine open(String preset, BatchingOptions o) {
        return Engine.open(EngineOptions.builder().modelDir(dir.resolve(preset)).batching(o).build());
    }

    /**
     * Waits (up to 60 s) until the engine's active-sequence gauge reads {@code n}. The gauge is set at the end of each
     * scheduler iteration, so it lags a request whose future has just completed by up to one iteration.
     */
    static void awaitActive(Engine e, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (e.stats().activeSequences() != n && System.nanoTime() < until) Thread.sleep(1);
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(120, TimeUnit.SECONDS);
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Every generated token but the first (the prefill's) comes from a decode step, and the steps are timed. */
    @Test
    void statsCountDecodeRowsAndTime() throws Exception {
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().build())) {
            EngineStats before = e.stats();
            SamplingParams sp = SamplingParams.builder().maxNewTokens(9).ignoreEos(true).build();
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) fs.add(e.generate(new GenerationRequest("s" + i, new int[] {5 + i, 6, 7}, sp, false)));
            long generated = 0;
            for (var f : fs) generated += get(f).ids().length;
            awaitActive(e, 0);
            EngineStats after = e.stats();
            assertEquals(27, generated);
            assertEquals(generated - fs.size(), after.decodeRows() - before.decodeRows(), "rows advanced by decode steps");
            assertTrue(after.decodeNanos() > before.decodeNanos(), "decode steps were timed: " + after);
        }
    }

    // ------------------------------------------------------------------ (a) batching == alone

    /** Generation requests of mixed prompt lengths and stop points (length, eos, stop strings, sampling). */
    static List<GenerationRequest> mixedRequests(Random r, int n, int vocab) {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] p = new int[1 + r.nextInt(i % 5 == 0 ? 70 : 24)];
            for (int j = 0; j < p.length; j++) p[j] = r.nextInt(vocab);
            SamplingParams.Builder sp = SamplingParams.builder().maxNewTokens(1 + r.nextInt(14));
            if (i % 3 == 0) sp.ignoreEos(true);
            if (i % 4 == 1) sp.temperature(0.9f).topK(20).seed(100 + i);
            if (i % 6 == 2) sp.stopStrings(List.of("e", "a"));
            out.add(new GenerationRequest("r" + i, p, sp.build(), i % 5 == 1));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-hybrid", "tiny-moe", "tiny-rope"})
    void concurrentMixedRequestsEqualEachAlone(String preset) throws Exception {
        SummarizeTask sum = SummarizeTask.builder().maxTokens(7).build();
        ClassifyTask cls = ClassifyTask.builder().label("yes").label("no").label("maybe").build();
        List<TaskInput> records = new ArrayList<>();
        Random r = new Random(preset.hashCode());
        for (int i = 0; i < 12; i++) records.add(new TaskInput("t" + i, "record " + i + " " + "word ".repeat(r.nextInt(12)), Map.of(), i));
        List<GenerationRequest> reqs;
        List<GenerationResult> alone = new ArrayList<>();
        List<TaskResult> aloneSum = new ArrayList<>();
        List<TaskResult> aloneCls = new ArrayList<>();
        try (Engine e = open(preset, BatchingOptions.builder().maxActiveSequences(1).build())) {
            reqs = mixedRequests(r, 36, e.codec().decodableVocabSize());
            for (GenerationRequest q : reqs) alone.add(get(e.generate(q)));
            for (TaskInput in : records) {
                aloneSum.add(get(e.submit(sum, in)));
                aloneCls.add(get(e.submit(cls, in)));
            }
        }
        // batched: submitted from 4 threads at once; small prefill budget so arrivals join at many steps
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (Engine e = open(preset, BatchingOptions.builder().maxActiveSequences(16).maxPrefillTokens(48).build())) {
            List<CompletableFuture<GenerationResult>> gf = new ArrayList<>();
            List<CompletableFuture<TaskResult>> sf = new ArrayList<>();
            List<CompletableFuture<TaskResult>> cf = new ArrayList<>();
            List<CompletableFuture<?>> submitted = new ArrayList<>();
            for (int i = 0; i < reqs.size(); i++) gf.add(new CompletableFuture<>());
            for (int i = 0; i < records.size(); i++) { sf.add(new CompletableFuture<>()); cf.add(new CompletableFuture<>()); }
            for (int t = 0; t < 4; t++) {
                final int th = t;
                submitted.add(CompletableFuture.runAsync(() -> {
                    for (int i = th; i < reqs.size(); i += 4) {
                        final int k = i;
                        e.generate(reqs.get(k)).whenComplete((v, x) -> { if (x == null) gf.get(k).complete(v); else gf.get(k).completeExceptionally(x); });
                        if (k < records.size()) {
                            e.submit(sum, records.get(k)).whenComplete((v, x) -> { if (x == null) sf.get(k).complete(v); else sf.get(k).completeExceptionally(x); });
                            e.submit(cls, records.get(k)).whenComplete((v, x) -> { if (x == null) cf.get(k).complete(v); else cf.get(k).completeExceptionally(x); });
                        }
                    }
                }, pool));
            }
            for (var s : submitted) get(s);
            for (int i = 0; i < reqs.size(); i++) {
                GenerationResult a = alone.get(i), b = get(gf.get(i));
                String what = preset + " request " + i + " (prompt " + reqs.get(i).promptIds().length + ", " + reqs.get(i).sampling() + ")";
                assertNull(a.error(), what);
                assertNull(b.error(), what);
                assertArrayEquals(a.ids(), b.ids(), what);
                assertEquals(a.finishReason(), b.finishReason(), what);
                assertEquals(a.text(), b.text(), what);
                if (reqs.get(i).returnLogits()) assertArrayEquals(a.logitsLast(), b.logitsLast(), 1e-3f, what);
            }
            for (int i = 0; i < records.size(); i++) {
                TaskResult a = aloneSum.get(i), b = get(sf.get(i));
                assertNull(b.error());
                assertEquals(a.text(), b.text(), preset + " summarize " + i);
                assertEquals(a.generatedTokens(), b.generatedTokens());
                assertEquals(a.finishReason(), b.finishReason());
                TaskResult ca = aloneCls.get(i), cb = get(cf.get(i));
                assertNull(cb.error());
                assertEquals(ca.label(), cb.label(), preset + " classify " + i);
                for (String l : cls.labelNames()) assertEquals(ca.probabilities().get(l), cb.probabilities().get(l), 1e-4, l);
            }
            assertEquals(reqs.size() + 2L * records.size(), e.stats().completedRequests());
            assertTrue(e.stats().occupancy() > 1.0, "sequences were actually batched: " + e.stats());
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ (b) shared prefix == whole prompt

    @ParameterizedTest
    @ValueSource(strings = {"tiny-hybrid", "tiny-rope"})
    void sharedPrefixStateEqualsWholePromptPrefill(String preset) throws Exception {
        // model level, on the real checkpoint: prefix prefilled once, forked (select) into ragged suffixes
        try (GraniteModel m = GraniteModel.load(dir.resolve(preset), Device.cpu(), DataType.FLOAT32);
                NDManager step = NDManager.newBaseManager()) {
            Random r = new Random(9);
            int[] prefix = ids(r, 37);
            int[][] suffix = {ids(r, 1), ids(r, 9), ids(r, 23), ids(r, 4)};
            int[][] whole = new int[suffix.length][];
            for (int i = 0; i < suffix.length; i++) whole[i] = concat(prefix, suffix[i]);
            try (ModelState p = m.emptyState(1);
                    ModelState full = m.emptyState(suffix.length)) {
                m.prefill(step, new int[][] {prefix}, p);
                try (ModelState forked = p.select(new int[suffix.length])) {
                    NDArray a = m.prefill(step, suffix, forked);
                    NDArray b = m.prefill(step, whole, full);
                    assertClose(b, a, 1e-4, preset + " prefill logits");
                    for (int s = 0; s < 5; s++) { // and the continued states decode the same
                        int[] next = new int[suffix.length];
                        long[] am = a.argMax(1).toLongArray();
                        for (int i = 0; i < next.length; i++) next[i] = (int) am[i];
                        a = m.decode(step, next, forked);
                        b = m.decode(step, next, full);
                        assertClose(b, a, 1e-4, preset + " decode step " + s);
                    }
                    for (int i = 0; i < suffix.length; i++) assertEquals(full.length(i), forked.length(i));
                }
            }
        }
        // engine level: a task's records (prefix shared through the cache) equal generate() of prefix ++ suffix
        try (Engine e = open(preset, BatchingOptions.defaults())) {
            SummarizeTask sum = SummarizeTask.builder().instruction("Shorten this, please.")
                    .sampling(SamplingParams.builder().maxNewTokens(10).ignoreEos(true).build()).build();
            TaskPrompter tp = TaskPrompter.of(sum, e.codec());
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            List<TaskInput> ins = new ArrayList<>();
            for (int i = 0; i < 8; i++) ins.add(TaskInput.of("s" + i, "text " + "abc ".repeat(i)));
            for (TaskInput in : ins) fs.add(e.submit(sum, in));
            for (int i = 0; i < ins.size(); i++) {
                TaskResult t = get(fs.get(i));
                int[] whole = concat(tp.prefixIds(), tp.suffixIds(ins.get(i)));
                GenerationResult g = get(e.generate(new GenerationRequest("g" + i, whole,
                        SamplingParams.builder().maxNewTokens(10).ignoreEos(true).build(), false)));
                assertNull(t.error());
                assertEquals(g.text(), t.text(), preset + " record " + i);
                assertEquals(10, t.generatedTokens());
                assertEquals(whole.length, t.promptTokens());
            }
            assertEquals(1, ((GraniteEngine) e).cachedPrefixes(), "one task, one cached prefix");
        }
    }

    static int[] ids(Random r, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(256);
        return a;
    }

    static void assertClose(NDArray want, NDArray got, double tol, String what) {
        float[] w = want.toFloatArray(), g = got.toFloatArray();
        assertEquals(w.length, g.length, what);
        double worst = 0;
        for (int i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - g[i]));
        assertTrue(worst <= tol, what + ": max |diff| " + worst);
    }

    // ------------------------------------------------------------------ chunked prefill

    /** On tiny-rope (mamba + RoPE attention): chunk boundaries must keep conv/SSM state, K/V and positions. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-rope"})
    void chunkedPrefillEqualsUnchunked(String preset) throws Exception {
        Random r = new Random(77);
        int[] lengths = {150, 5, 97, 33, 17};
        List<GenerationRequest> reqs = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            int[] p = ids(r, lengths[i]);
            // maxNewTokens 1: logitsLast are the prefill logits; 9: after decoding on the chunk-built state
            if (i < 2) reqs.add(new GenerationRequest("p" + i, p, SamplingParams.builder().maxNewTokens(1).build(), true));
            reqs.add(new GenerationRequest("d" + i, p, SamplingParams.builder().maxNewTokens(9).ignoreEos(true).build(), true));
        }
        SummarizeTask sum = SummarizeTask.builder().sampling(SamplingParams.builder().maxNewTokens(6).ignoreEos(true).build()).build();
        ClassifyTask cls = ClassifyTask.builder().label("short").label("long").build();
        List<TaskInput> records = List.of(TaskInput.of("t0", "word ".repeat(24)), TaskInput.of("t1", "tiny"));
        List<List<Object>> results = new ArrayList<>();
        long[] stepCounts = new long[2];
        int[] chunks = {4096, 24};
        for (int run = 0; run < 2; run++) {
            try (Engine e = open(preset, BatchingOptions.builder().maxPrefillTokens(chunks[run]).build())) {
                List<CompletableFuture<?>> fs = new ArrayList<>();
                for (GenerationRequest q : reqs) fs.add(e.generate(q));
                for (TaskInput in : records) {
                    fs.add(e.submit(sum, in));
                    fs.add(e.submit(cls, in));
                }
                List<Object> out = new ArrayList<>();
                for (CompletableFuture<?> f : fs) out.add(get(f));
                results.add(out);
                stepCounts[run] = e.stats().stepCount();
                assertEquals(2, ((GraniteEngine) e).cachedPrefixes(), "each task prefix prefilled once");
            }
        }
        assertTrue(stepCounts[1] > stepCounts[0] + 10, "prompts were prefilled in chunks: " + Arrays.toString(stepCounts));
        for (int i = 0; i < results.get(0).size(); i++) {
            Object a = results.get(0).get(i), b = results.get(1).get(i);
            if (a instanceof GenerationResult ga) {
                GenerationResult gb = (GenerationResult) b;
                String what = preset + " " + ga.id() + " (prompt " + ga.promptTokens() + ")";
                assertNull(gb.error(), what);
                assertArrayEquals(ga.ids(), gb.ids(), what);
                assertArrayEquals(ga.logitsLast(), gb.logitsLast(), 1e-3f, what);
            } else {
                TaskResult ta = (TaskResult) a, tb = (TaskResult) b;
                assertNull(tb.error(), ta.id());
                assertEquals(ta.text(), tb.text(), ta.id());
                assertEquals(ta.label(), tb.label(), ta.id());
                if (ta.probabilities() != null) {
                    for (var en : ta.probabilities().entrySet()) assertEquals(en.getValue(), tb.probabilities().get(en.getKey()), 1e-4);
                }
            }
        }
    }

    @Test
    void decodeOfOthersGoesOnWhileALongPromptIsPrefilledInChunks() throws Exception {
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().maxPrefillTokens(16).build())) {
            ((GraniteEngine) e).setFaultInjector(events::add);
            CompletableFuture<GenerationResult> running = e.generate(new GenerationRequest("s", new int[] {7, 8, 9},
                    SamplingParams.builder().maxNewTokens(3000).ignoreEos(true).build(), false));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!events.contains("s") && System.nanoTime() < until) Thread.sleep(1);
            events.add("MARK");
            GenerationResult longOne = get(e.generate(new GenerationRequest("L", ids(new Random(3), 400),
                    SamplingParams.builder().maxNewTokens(2).ignoreEos(true).build(), false)));
            assertNull(longOne.error());
            assertEquals(2, longOne.ids().length);
            running.cancel(true);
            List<String> seen;
            synchronized (events) { seen = new ArrayList<>(events); }
            int mark = seen.indexOf("MARK"), first = seen.indexOf("L");
            assertTrue(mark >= 0 && first > mark, seen.toString());
            long during = seen.subList(mark, first).stream().filter("s"::equals).count();
            // 400 tokens at 16 per iteration = 25 iterations, each with a decode step of the running sequence
            assertTrue(during >= 20, "decode steps of the running sequence while the long prompt was prefilled: " + during);
        }
    }

    @Test
    void cancelAndTimeoutReachARequestWhileItsPromptIsPrefilledInChunks() throws Exception {
        SamplingParams shortRun = SamplingParams.builder().maxNewTokens(6).ignoreEos(true).build();
        int[] small = {11, 12, 13};
        int[] longPrompt = ids(new Random(8), 2000);
        SamplingParams more = SamplingParams.builder().maxNewTokens(1000).ignoreEos(true).build();
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().maxPrefillTokens(8).build())) {
            int[] want = get(e.generate(new GenerationRequest("w", small, shortRun, false))).ids();
            awaitActive(e, 0); // the gauge can still count "w" right after its future completed
            CompletableFuture<GenerationResult> doomed = e.generate(new GenerationRequest("L", longPrompt, more, false));
            awaitActive(e, 1);
            assertEquals(1, e.stats().activeSequences(), "admitted (2000 tokens take 250 chunks)");
            assertTrue(doomed.cancel(true));
            assertArrayEquals(want, get(e.generate(new GenerationRequest("after", small, shortRun, false))).ids());
            awaitActive(e, 0);
            assertEquals(0, e.stats().activeSequences(), "the cancelled prompt and its partial state are gone");
        }
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().maxPrefillTokens(8)
                .requestTimeout(Duration.ofMillis(300)).build())) {
            GenerationResult t = get(e.generate(new GenerationRequest("L", longPrompt, more, false)));
            assertEquals(ErrorKind.TIMEOUT, t.error().kind(), "250 chunks + 1000 tokens never finish in 300 ms");
            GenerationResult after = get(e.generate(new GenerationRequest("after", small,
                    SamplingParams.builder().maxNewTokens(1).build(), false)));
            assertTrue(after.error() == null || after.error().kind() == ErrorKind.TIMEOUT, String.valueOf(after.error()));
        }
    }

    // ------------------------------------------------------------------ (c) classify

    @Test
    void classifyIsADistributionOverExactlyTheLabels() throws Exception {
        try (Engine e = open("tiny-moe", BatchingOptions.defaults())) {
            ClassifyTask cls = ClassifyTask.builder().label("spam", "unwanted").label("ham").label("sp").label("other")
                    .build();
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            for (int i = 0; i < 10; i++) fs.add(e.submit(cls, TaskInput.of("c" + i, "message number " + i + " " + "x".repeat(i))));
            int vocab = e.codec().decodableVocabSize();
            TaskPrompter tp = TaskPrompter.of(cls, e.codec());
            for (int i = 0; i < fs.size(); i++) {
                TaskResult t = get(fs.get(i));
                assertNull(t.error());
                assertEquals(List.of("spam", "ham", "sp", "other"), List.copyOf(t.probabilities().keySet()));
                double total = 0, best = -1;
                for (double p : t.probabilities().values()) {
                    assertTrue(p >= 0 && p <= 1, "probability " + p);
                    total += p;
                    best = Math.max(best, p);
                }
                assertEquals(1.0, total, 1e-9);
                assertEquals(best, t.probabilities().get(t.label()), 0.0, "the label is the most probable one");
                assertNull(t.text());
                if (i < 2) { // cross-check the label scores against generate() logits, token by token
                    int[] prompt = concat(tp.prefixIds(), tp.suffixIds(TaskInput.of("c" + i, "message number " + i + " " + "x".repeat(i))));
                    double[] lp = new double[4];
                    for (int l = 0; l < 4; l++) {
                        int[] lab = e.codec().encode(cls.labelNames().get(l));
                        lab = Arrays.copyOf(lab, lab.length + 1);
                        lab[lab.length - 1] = e.codec().eosTokenId();
                        for (int j = 0; j < lab.length; j++) {
                            int[] ctx = concat(prompt, Arrays.copyOf(lab, j));
                            float[] row = get(e.generate(new GenerationRequest("x", ctx,
                                    SamplingParams.builder().maxNewTokens(1).ignoreEos(true).build(), true))).logitsLast();
                            lp[l] += logSoftmax(row, vocab, lab[j]);
                        }
                    }
                    double max = Arrays.stream(lp).max().orElseThrow(), z = 0;
                    for (double v : lp) z += Math.exp(v - max);
                    for (int l = 0; l < 4; l++) {
                        assertEquals(Math.exp(lp[l] - max) / z, t.probabilities().get(cls.labelNames().get(l)), 1e-3,
                                "record " + i + " label " + cls.labelNames().get(l));
                    }
                }
            }
        }
    }

    @Test
    void classifyReservesTheRowStateAndTheForksNotAStateCopyPerLabel() throws Exception {
        // 12 labels are scored on forks that read the row's state: the record fits a budget of its row state plus
        // the forks' working memory, below 13 copies of the state (what copying a state per label would take; on
        // this tiny model the state is small, on the h-350m shape a fork's memory is ~1/25 of a state)
        ClassifyTask.Builder b = ClassifyTask.builder();
        for (int l = 0; l < 12; l++) b.label("label" + l);
        ClassifyTask cls = b.build();
        TaskInput in = TaskInput.of("r0", "a short record");
        long budget, copies;
        try (GraniteModel m = GraniteModel.load(dir.resolve("tiny-hybrid"), Device.cpu(), DataType.FLOAT32);
                Engine e = open("tiny-hybrid", BatchingOptions.defaults())) {
            TaskPrompter tp = TaskPrompter.of(cls, e.codec());
            int total = tp.prefixIds().length + tp.suffixIds(in).length;
            int longest = 0;
            long forks = 0;
            for (String l : cls.labelNames()) {
                int n = e.codec().encode(l).length + 1; // + end-of-text
                longest = Math.max(longest, n);
                forks += m.forkBytes(n - 1, total);
            }
            budget = m.stateBytes(total + longest) + forks;
            copies = m.stateBytes(total + longest) * 13;
        }
        assertTrue(budget < copies, "budget " + budget + " vs copies " + copies);
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().stateBudgetBytes(budget).build())) {
            TaskResult t = get(e.submit(cls, in));
            assertNull(t.error(), "admitted within " + budget + " bytes");
            assertEquals(12, t.probabilities().size());
        }
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().stateBudgetBytes(budget - 1).build())) {
            TaskResult t = get(e.submit(cls, in));
            assertNotNull(t.error(), "one byte less does not fit");
            assertEquals(ErrorKind.INPUT_TOO_LONG, t.error().kind());
        }
    }

    static double logSoftmax(float[] row, int n, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, row[i]);
        double z = 0;
        for (int i = 0; i < n; i++) z += Math.exp(row[i] - max);
        return row[id] - max - Math.log(z);
    }

    // ------------------------------------------------------------------ (d) extract fuzz

    @Test
    void extractOutputAlwaysParsesAndValidatesOnRandomSchemasAndSeeds() throws Exception {
        Random r = new Random(2026);
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        try (Engine e = open("tiny-hybrid", BatchingOptions.defaults())) {
            List<ExtractTask> tasks = new ArrayList<>();
            List<ObjectNode> schemas = new ArrayList<>();
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            List<Integer> taskOf = new ArrayList<>();
            for (int s = 0; s < 24; s++) {
                ObjectNode schema = randomSchema(r);
                schemas.add(schema);
                float temp = 0.7f + r.nextFloat() * 1.3f;
                tasks.add(ExtractTask.builder().schema(schema).maxStringLength(1 + r.nextInt(10)).maxArrayItems(1 + r.nextInt(4))
                        .sampling(SamplingParams.builder().temperature(temp).topP(r.nextBoolean() ? 1f : 0.95f).build()).build());
                for (int k = 0; k < 5; k++) {
                    fs.add(e.submit(tasks.get(s), new TaskInput("x" + s + "-" + k, "document " + r.nextInt(1000), Map.of(), r.nextLong())));
                    taskOf.add(s);
                }
            }
            Set<String> distinct = new HashSet<>();
            for (int i = 0; i < fs.size(); i++) {
                TaskResult t = get(fs.get(i));
                ObjectNode schema = schemas.get(taskOf.get(i));
                String what = "record " + t.id() + " schema " + schema + " output " + t.json();
                assertNull(t.error(), () -> what + ": " + t.error());
                assertEquals(FinishReason.STRUCTURE_COMPLETE, t.finishReason(), what);
                JsonNode out = JSON.readTree(t.json());
                assertTrue(factory.getSchema(schema).validate(out).isEmpty(), what + ": " + factory.getSchema(schema).validate(out));
                checkAgainst(schema, tasks.get(taskOf.get(i)), out, t.fields(), what);
                distinct.add(t.json());
            }
            assertTrue(distinct.size() > fs.size() / 2, "sampling varies the outputs: " + distinct.size() + " distinct");
        }
    }

    static final String[] SCALARS = {"string", "number", "integer", "boolean", "enum"};

    static ObjectNode randomSchema(Random r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("type", "object");
        ObjectNode props = root.putObject("properties");
        ArrayNode req = JSON.createArrayNode();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            String name = "f" + i + (r.nextBoolean() ? "_" + (char) ('a' + r.nextInt(26)) : "");
            ObjectNode p = props.putObject(name);
            boolean array = r.nextInt(4) == 0;
            ObjectNode item = array ? JSON.createObjectNode() : p;
            String kind = SCALARS[r.nextInt(SCALARS.length)];
            boolean nullable = !array && r.nextInt(3) == 0;
            if (kind.equals("enum")) {
                ArrayNode en = item.putArray("enum");
                int k = 1 + r.nextInt(4);
                for (int j = 0; j < k; j++) en.add("v" + j + "x".repeat(r.nextInt(3)));
                if (nullable) en.addNull();
            } else if (nullable) {
                item.putArray("type").add(kind).add("null");
            } else {
                item.put("type", kind);
            }
            if (kind.equals("string") && r.nextBoolean()) item.put("maxLength", 1 + r.nextInt(6));
            if (array) {
                p.put("type", "array");
                p.set("items", item);
                if (r.nextBoolean()) p.put("maxItems", 1 + r.nextInt(3));
            }
            if (r.nextBoolean()) p.put("description", "field " + i);
            if (r.nextBoolean()) req.add(name);
        }
        if (!req.isEmpty()) root.set("required", req);
        if (r.nextBoolean()) root.put("additionalProperties", false);
        return root;
    }

    /** Independent checks of the subset's meaning (on top of the networknt validation). */
    static void checkAgainst(ObjectNode schema, ExtractTask task, JsonNode out, Map<String, Object> fields, String what) {
        assertTrue(out.isObject(), what);
        JsonNode props = schema.get("properties");
        for (JsonNode req : schema.path("required")) assertTrue(out.has(req.asText()), what + ": missing " + req);
        for (Iterator<String> it = out.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            assertTrue(props.has(name), what + ": unexpected " + name);
            JsonNode p = props.get(name);
            JsonNode v = out.get(name);
            assertTrue(fields.containsKey(name), what + ": typed field " + name);
            Object typed = fields.get(name);
            if (p.path("type").asText().equals("array")) {
                assertTrue(v.isArray(), what);
                int max = Math.min(task.maxArrayItems(), p.path("maxItems").asInt(Integer.MAX_VALUE));
                assertTrue(v.size() <= max, what + ": " + v.size() + " items > " + max);
                assertInstanceOf(List.class, typed, what);
                assertEquals(v.size(), ((List<?>) typed).size(), what);
                for (JsonNode x : v) checkScalar(p.get("items"), task, x, what);
            } else {
                checkScalar(p, task, v, what);
                if (v.isNull()) assertNull(typed, what);
                else if (v.isTextual()) assertEquals(v.asText(), typed, what);
                else if (v.isBoolean()) assertEquals(v.asBoolean(), typed, what);
                else if (v.isIntegralNumber() && p.toString().contains("integer")) assertEquals(v.asLong(), ((Number) typed).longValue(), what);
                else assertEquals(v.asDouble(), ((Number) typed).doubleValue(), 1e-9, what);
            }
        }
    }

    static void checkScalar(JsonNode p, ExtractTask task, JsonNode v, String what) {
        if (p.has("enum")) {
            boolean found = false;
            for (JsonNode a : p.get("enum")) found |= a.equals(v);
            assertTrue(found, what + ": " + v + " not in enum");
            return;
        }
        JsonNode type = p.get("type");
        Set<String> types = new HashSet<>();
        if (type.isArray()) type.forEach(t -> types.add(t.asText())); else types.add(type.asText());
        if (v.isNull()) { assertTrue(types.contains("null"), what); return; }
        if (v.isTextual()) {
            assertTrue(types.contains("string"), what);
            int max = Math.min(task.maxStringLength(), p.path("maxLength").asInt(Integer.MAX_VALUE));
            assertTrue(v.asText().codePointCount(0, v.asText().length()) <= max, what + ": string longer than " + max);
        } else if (v.isBoolean()) {
            assertTrue(types.contains("boolean"), what);
        } else if (v.isNumber()) {
            assertTrue(types.contains("number") || (types.contains("integer") && v.isIntegralNumber()), what);
        } else {
            throw new AssertionError(what + ": unexpected value " + v);
        }
    }

    // ------------------------------------------------------------------ (e) summarize stops

    @Test
    void summarizeStopsAtEndOfTextOrMaxTokens() throws Exception {
        int maxTokens = 40;
        try (Engine e = open("tiny-hybrid", BatchingOptions.defaults())) {
            int eos = e.codec().eosTokenId();
            SamplingParams sp = SamplingParams.builder().maxNewTokens(maxTokens).temperature(3.0f).build();
            SummarizeTask sum = SummarizeTask.builder().sampling(sp).build();
            TaskPrompter tp = TaskPrompter.of(sum, e.codec());
            List<TaskInput> ins = new ArrayList<>();
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                ins.add(new TaskInput("s" + i, "some text " + i, Map.of(), 1000 + i));
                fs.add(e.submit(sum, ins.get(i)));
            }
            int eosStops = 0, lengthStops = 0;
            for (int i = 0; i < fs.size(); i++) {
                TaskResult t = get(fs.get(i));
                assertNull(t.error());
                // the same record generated with ignore-eos (same seed, same random stream per step)
                int[] whole = concat(tp.prefixIds(), tp.suffixIds(ins.get(i)));
                GenerationResult g = get(e.generate(new GenerationRequest("g" + i, whole,
                        sp.toBuilder().ignoreEos(true).seed(1000 + i).build(), false)));
                int firstEos = -1;
                for (int j = 0; j < g.ids().length && firstEos < 0; j++) if (g.ids()[j] == eos) firstEos = j;
                if (t.finishReason() == FinishReason.EOS) {
                    eosStops++;
                    assertEquals(firstEos + 1, t.generatedTokens(), "record " + i + " stops right at <|end_of_text|>");
                    assertFalse(t.text().contains("<|end_of_text|>"), t.text());
                } else {
                    assertEquals(FinishReason.LENGTH, t.finishReason(), "record " + i);
                    lengthStops++;
                    assertEquals(maxTokens, t.generatedTokens(), "record " + i);
                    assertEquals(-1, firstEos, "record " + i + " ran past an <|end_of_text|>");
                }
            }
            assertTrue(eosStops > 0 && lengthStops > 0, "both stop kinds happened: eos " + eosStops + ", length " + lengthStops);
        }
    }

    // ------------------------------------------------------------------ (f) errors, cancel, timeout, close

    @Test
    void badRecordsGetPerRecordErrorsWhileOthersSucceed() throws Exception {
        try (Engine e = open("tiny-hybrid", BatchingOptions.builder().maxSequenceLength(300).build())) {
            SummarizeTask sum = SummarizeTask.builder().maxTokens(5).build();
            ClassifyTask cls = ClassifyTask.builder().label("a").label("b").build();
            List<CompletableFuture<TaskResult>> fs = new ArrayList<>();
            List<Task> ts = List.of(sum, cls);
            for (int i = 0; i < 12; i++) {
                String text = i % 3 == 0 ? (i % 2 == 0 ? "" : "   ") : i % 3 == 1 ? "long ".repeat(200) : "fine " + i;
                fs.add(e.submit(ts.get(i % 2), TaskInput.of("r" + i, text)));
            }
            for (int i = 0; i < 12; i++) {
                TaskResult t = get(fs.get(i));
                if (i % 3 == 0) {
                    assertEquals(ErrorKind.EMPTY_INPUT, t.error().kind(), "record " + i);
                } else if (i % 3 == 1) {
                    assertEquals(ErrorKind.INPUT_TOO_LONG, t.error().kind(), "record " + i);
                    assertTrue(t.error().message().contains("'r" + i + "'"), t.error().message());
                } else {
                    assertNull(t.error(), "record " + i);
                    assertTrue(i % 2 == 0 ? t.text() != null : t.label() != null);
                }
            }
            GenerationResult bad = get(e.generate(new GenerationRequest("bad", new int[] {1, 99999},
                    SamplingParams.greedy(), false)));
            assertEquals(ErrorKind.INVALID_RECORD, bad.error().kind());
            assertNull(get(e.generate(new GenerationRequest("ok", new int[] {1, 2}, SamplingParams.greedy(), false))).error());
        }
    }

    @Test
    void cancellationAndTimeoutOfOneRequestDoNotAffectOthers() throws Exception {
        SamplingParams shortRun = SamplingParams.builder().maxNewTokens(12).ignoreEos(true).build();
        SamplingParams endless = SamplingParams.builder().maxNewTokens(3000).ignoreEos(true).build();
        int[][] prompts = {{5, 6, 7}, {40, 41}, {70, 71, 72, 73, 74}};
        List<int[]> want = new ArrayList<>();
        try (Engine e = open("tiny-rope", BatchingOptions.defaults())) {
            for (int[] p : prompts) want.add(get(e.generate(new GenerationRequest("w", p, shortRun, false))).ids());
            // cancel a long request while the others decode beside it
            awaitActive(e, 0); // the gauge can still count the last short request right after its future completed
            CompletableFuture<GenerationResult> doomed = e.generate(new GenerationRequest("doomed", new int[] {9, 9}, endless, false));
            awaitActive(e, 1);
            assertEquals(1, e.stats().activeSequences(), "the long request is decoding");
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) fs.add(e.generate(new GenerationRequest("o" + i, prompts[i], shortRun, false)));
            assertTrue(doomed.cancel(true));
            for (int i = 0; i < prompts.length; i++) assertArrayEquals(want.get(i), get(fs.get(i)).ids(), "request " + i);
            assertThrows(CancellationException.class, doomed::join);
            // the cancelled sequence leaves the batch
            awaitActive(e, 0);
            assertEquals(0, e.stats().activeSequences());
        }
        // timeout: the slow request is slowed per step through the fault hook (3000 x 20 ms >> 3 s), the
        // others need 12 steps (12 x 20 ms)
        try (Engine e = open("tiny-rope", BatchingOptions.builder().requestTimeout(Duration.ofSeconds(3)).build())) {
            ((GraniteEngine) e).setFaultInjector(id -> {
                if (id.equals("slow")) {
                    try { Thread.sleep(20); } catch (InterruptedException x) { Thread.currentThread().interrupt(); }
                }
            });
            CompletableFuture<GenerationResult> slow = e.generate(new GenerationRequest("slow", new int[] {9, 9}, endless, false));
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) fs.add(e.generate(new GenerationRequest("o" + i, prompts[i], shortRun, false)));
            for (int i = 0; i < prompts.length; i++) assertArrayEquals(want.get(i), get(fs.get(i)).ids(), "request " + i);
            GenerationResult t = get(slow);
            assertEquals(ErrorKind.TIMEOUT, t.error().kind());
            assertTrue(t.error().message().contains("'slow'"), t.error().message());
            assertNull(get(e.generate(new GenerationRequest("after", prompts[0], shortRun, false))).error());
        }
    }

    @Test
    void closeFailsPendingRequests() throws Exception {
        Engine e = open("tiny-hybrid", BatchingOptions.builder().maxActiveSequences(2).build());
        SamplingParams sp = SamplingParams.builder().maxNewTokens(2000).ignoreEos(true).build();
        List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
        for (int i = 0; i < 8; i++) fs.add(e.generate(new GenerationRequest("p" + i, new int[] {3 + i, 4}, sp, false)));
        List<CompletableFuture<TaskResult>> ts = new ArrayList<>();
        for (int i = 0; i < 4; i++) ts.add(e.submit(SummarizeTask.builder().maxTokens(2000).build(), TaskInput.of("t" + i, "text " + i)));
        e.close();
        int failedCount = 0;
        for (CompletableFuture<?> f : concatFutures(fs, ts)) {
            assertTrue(f.isDone(), "close() completes every pending future");
            if (f.isCompletedExceptionally()) {
                failedCount++;
                ExecutionException x = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
                assertInstanceOf(IllegalStateException.class, x.getCause());
                assertTrue(x.getCause().getMessage().contains("closed"), x.getCause().getMessage());
            }
        }
        assertTrue(failedCount >= 8, "queued and running requests fail on close: " + failedCount);
        CompletableFuture<GenerationResult> late = e.generate(new GenerationRequest("late", new int[] {3}, sp, false));
        assertTrue(late.isCompletedExceptionally());
        e.close(); // idempotent
        assertNotNull(e.modelInfo());
    }

    static List<CompletableFuture<?>> concatFutures(List<? extends CompletableFuture<?>> a, List<? extends CompletableFuture<?>> b) {
        List<CompletableFuture<?>> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @AfterAll
    static void done() {}
}
