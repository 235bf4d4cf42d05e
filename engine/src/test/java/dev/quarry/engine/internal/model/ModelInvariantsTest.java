package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.internal.NativeMemoryAdvice;
import dev.quarry.engine.model.GraniteConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Exactness invariants of the model on random tiny weights (ng=2, chunk 8, MoE, RoPE). */
class ModelInvariantsTest {
    static GraniteModel model;
    static NDManager root;

    @BeforeAll
    static void load() {
        GraniteConfig c = RandomWeights.tiny(true, true);
        model = GraniteModel.load(c, new RandomWeights(c, 7, DataType.FLOAT32), Device.cpu(), DataType.FLOAT32);
        root = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
        root.close();
    }

    static int[] ids(long seed, int n) {
        Random r = new Random(seed);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(61);
        return a;
    }

    /** Logits of the last token after feeding {@code ids} to a fresh single-row state in one prefill. */
    static float[] alone(int[] ids) {
        return Logits.prefillAlone(model, root, ids);
    }

    static float[] row(NDArray logits, int r) {
        return logits.get(r).toFloatArray();
    }

    static void close(float[] want, float[] got, double tol, String what) {
        Logits.assertClose(want, got, tol, what);
    }

    @Test
    void chunkedPrefillEqualsRecurrentDecode() {
        int[] ids = ids(1, 19); // > 2 chunks of 8
        float[] want = alone(ids);
        try (ModelState st = model.emptyState(1); NDManager step = root.newSubManager()) {
            NDArray l = model.prefill(step, new int[][] {Arrays.copyOf(ids, 1)}, st);
            for (int i = 1; i < ids.length; i++) l = model.decode(step, new int[] {ids[i]}, st);
            close(want, l.toFloatArray(), 1e-4, "prefill vs decode");
            assertEquals(19, st.length(0));
        }
    }

    @Test
    void aLongPromptIsPrefilledInChunksShorterThanTheConfigsAndEqualsRecurrentDecode() {
        // chunk_size 256 as in Granite: prefill caps its SSD chunks at PREFILL_MAX_CHUNK (3 chunks of 50 here)
        GraniteConfig.Builder b = RandomWeights.tiny(false, false).toBuilder();
        b.mambaChunkSize = 256;
        GraniteConfig c = b.build();
        int n = 2 * MambaMixer.PREFILL_MAX_CHUNK + 22;
        int[] ids = ids(30, n);
        try (GraniteModel m = GraniteModel.load(c, new RandomWeights(c, 8, DataType.FLOAT32), Device.cpu(), DataType.FLOAT32);
                ModelState whole = m.emptyState(2);
                ModelState st = m.emptyState(1);
                NDManager step = root.newSubManager()) {
            int[] shorter = Arrays.copyOf(ids, 9); // left-padded next to the long row
            NDArray p = m.prefill(step, new int[][] {ids, shorter}, whole);
            NDArray l = m.prefill(step, new int[][] {Arrays.copyOf(ids, 1)}, st);
            for (int i = 1; i < n; i++) {
                l = m.decode(step, new int[] {ids[i]}, st);
                if (i == shorter.length - 1) close(l.toFloatArray(), row(p, 1), 1e-4, "short row vs decode");
            }
            close(l.toFloatArray(), row(p, 0), 1e-4, "long row vs decode");
        }
    }

    @Test
    void leftPaddedBatchEqualsEachAlone() {
        int[][] prompts = {ids(2, 3), ids(3, 17), ids(4, 9), ids(5, 1)};
        try (ModelState st = model.emptyState(4); NDManager step = root.newSubManager()) {
            NDArray l = model.prefill(step, prompts, st);
            for (int r = 0; r < 4; r++) close(alone(prompts[r]), row(l, r), 1e-4, "row " + r);
            // then decode two tokens for all rows and compare with each row alone
            int[] next = {5, 6, 7, 8};
            NDArray d = model.decode(step, next, st);
            d = model.decode(step, next, st);
            for (int r = 0; r < 4; r++) {
                int[] full = Arrays.copyOf(prompts[r], prompts[r].length + 2);
                full[full.length - 2] = next[r];
                full[full.length - 1] = next[r];
                close(alone(full), row(d, r), 1e-4, "decode row " + r);
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {2, 11})
    void prefixStateThenRaggedSuffixEqualsWholePrompt(int prefixLength) {
        int[] prefix = ids(9, prefixLength);
        int[][] suffixes = {ids(10, 2), ids(11, 13), ids(12, 1)};
        try (ModelState one = model.emptyState(1); NDManager step = root.newSubManager()) {
            model.prefill(step, new int[][] {prefix}, one);
            try (ModelState st = one.select(new int[] {0, 0, 0})) {
                NDArray l = model.prefill(step, suffixes, st);
                for (int r = 0; r < 3; r++) {
                    int[] whole = concat(prefix, suffixes[r]);
                    close(alone(whole), row(l, r), 1e-4, "suffix row " + r);
                    assertEquals(whole.length, st.length(r));
                }
            }
        }
    }

    @Test
    void forkForPrefillSharesThePrefixUntilThePrefillAndLeavesThePrefixAsItWas() {
        int[] prefix = ids(40, 11);
        int[][] suffixes = {ids(41, 2), ids(42, 13), ids(43, 1)};
        try (ModelState one = model.emptyState(1); NDManager step = root.newSubManager()) {
            model.prefill(step, new int[][] {prefix}, one);
            for (int round = 0; round < 2; round++) { // the second fork sees the prefix unchanged by the first
                try (ModelState st = one.forkForPrefill(3)) {
                    assertThrows(IllegalStateException.class, () -> model.decode(step, new int[] {1, 2, 3}, st),
                            "shared rows are read-only until prefilled");
                    NDArray l = model.prefill(step, suffixes, st);
                    for (int r = 0; r < 3; r++) {
                        int[] whole = concat(prefix, suffixes[r]);
                        close(alone(whole), row(l, r), 1e-4, "round " + round + ", suffix row " + r);
                        assertEquals(whole.length, st.length(r));
                    }
                    NDArray d = model.decode(step, new int[] {4, 5, 6}, st); // then decodes like any state
                    int[] whole = concat(concat(prefix, suffixes[1]), new int[] {5});
                    close(alone(whole), row(d, 1), 1e-4, "decode after the prefill");
                }
            }
        }
    }

    @Test
    void selectAndConcatPreserveRows() {
        int[] a = ids(20, 4), b = ids(21, 12), c = ids(22, 7);
        try (NDManager step = root.newSubManager();
                ModelState s1 = model.emptyState(1);
                ModelState s2 = model.emptyState(2)) {
            model.prefill(step, new int[][] {a}, s1);
            model.prefill(step, new int[][] {b, c}, s2);
            try (ModelState merged = ModelState.concat(List.of(s1, s2));
                    ModelState picked = merged.select(new int[] {2, 0})) {
                NDArray l = model.decode(step, new int[] {3, 4, 5}, merged);
                close(alone(concat(a, new int[] {3})), row(l, 0), 1e-4, "concat row 0");
                close(alone(concat(b, new int[] {4})), row(l, 1), 1e-4, "concat row 1");
                close(alone(concat(c, new int[] {5})), row(l, 2), 1e-4, "concat row 2");
                NDArray p = model.prefill(step, new int[][] {{1, 2}, {9}}, picked);
                close(alone(concat(c, new int[] {1, 2})), row(p, 0), 1e-4, "select row 0");
                close(alone(concat(a, new int[] {9})), row(p, 1), 1e-4, "select row 1");
                assertTrue(merged.bytes() > 0);
            }
        }
    }

    @Test
    void decodingDoesNotLeakArrays() {
        int modelArrays = countAlive(model.manager());
        try (ModelState st = model.emptyState(2)) {
            try (NDManager step = root.newSubManager()) {
                model.prefill(step, new int[][] {ids(30, 5), ids(31, 3)}, st);
            }
            int stateArrays = -1;
            for (int i = 0; i < 120; i++) {
                try (NDManager step = root.newSubManager()) {
                    model.decode(step, new int[] {i % 61, (i * 7) % 61}, st);
                    assertEquals(1, countAlive(step), "only the logits stay in the step manager");
                }
                if (i == 60) stateArrays = countAlive(st.manager);
                if (i > 60) assertEquals(stateArrays, countAlive(st.manager), "state arrays at step " + i);
            }
            assertEquals(st.arrays().size(), countAlive(st.manager), "state manager holds exactly the state");
        }
        assertEquals(modelArrays, countAlive(model.manager()), "model arrays after closing the state");
    }

    @Test
    void bf16ComputesCloseToF32Twin() {
        GraniteConfig c = RandomWeights.tiny(true, true);
        int[][] prompts = {ids(40, 12), ids(41, 5)};
        try (GraniteModel bf = GraniteModel.load(c, new RandomWeights(c, 7, DataType.BFLOAT16), Device.cpu(), DataType.BFLOAT16);
                ModelState s16 = bf.emptyState(2);
                ModelState s32 = model.emptyState(2);
                NDManager step = root.newSubManager()) {
            NDArray l16 = bf.prefill(step, prompts, s16);
            NDArray l32 = model.prefill(step, prompts, s32);
            assertEquals(DataType.FLOAT32, l16.getDataType());
            for (int r = 0; r < 2; r++) close(row(l32, r), row(l16, r), 0.08, "bf16 row " + r);
            l16 = bf.decode(step, new int[] {1, 2}, s16);
            l32 = model.decode(step, new int[] {1, 2}, s32);
            for (int r = 0; r < 2; r++) close(row(l32, r), row(l16, r), 0.08, "bf16 decode row " + r);
            assertEquals(DataType.FLOAT32, s16.ssm[0].getDataType());
            assertEquals(DataType.BFLOAT16, bf.requestedDtype());
            boolean differs = false;
            float[] a16 = row(l16, 0), a32 = row(l32, 0);
            for (int i = 0; i < a16.length; i++) differs |= a16[i] != a32[i];
            assertTrue(differs, "bf16-rounded weights must change the logits a little");
            assertEquals(bf.weightBytes(), GraniteModel.weightBytes(c, DataType.BFLOAT16));
            assertTrue(bf.weightBytes() < 0.75 * model.weightBytes(), "bf16 linear weights take half the bytes");
        }
    }

    /**
     * bf16 is computed, not only stored: the same bf16-rounded weights run through fp32 linears (requested f32)
     * give close but different logits, because the bf16 model rounds each linear's input to bf16.
     */
    @Test
    void bf16LinearsRoundTheirInputs() {
        GraniteConfig c = RandomWeights.tiny(true, true);
        int[][] prompts = {ids(42, 9), ids(43, 3)};
        try (GraniteModel bf = GraniteModel.load(c, new RandomWeights(c, 7, DataType.BFLOAT16), Device.cpu(), DataType.BFLOAT16);
                GraniteModel wide = GraniteModel.load(c, new RandomWeights(c, 7, DataType.BFLOAT16), Device.cpu(), DataType.FLOAT32);
                ModelState sb = bf.emptyState(2);
                ModelState sw = wide.emptyState(2);
                NDManager step = root.newSubManager()) {
            NDArray lb = bf.prefill(step, prompts, sb);
            NDArray lw = wide.prefill(step, prompts, sw);
            for (int i = 0; i < 3; i++) {
                for (int r = 0; r < 2; r++) close(row(lw, r), row(lb, r), 0.05, "bf16 vs widened, step " + i + " row " + r);
                boolean differs = false;
                float[] a = row(lb, 0), b = row(lw, 0);
                for (int j = 0; j < a.length; j++) differs |= a[j] != b[j];
                assertTrue(differs, "bf16 matmuls must round (step " + i + ")");
                int[] next = {argmax(row(lw, 0)), argmax(row(lw, 1))};
                lb = bf.decode(step, next, sb);
                lw = wide.decode(step, next, sw);
            }
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** Prefill stages (see Stage) hand the new states and the output on and free everything else. */
    @Test
    void prefillingDoesNotLeakArrays() {
        int modelArrays = countAlive(model.manager());
        try (ModelState st = model.emptyState(2)) {
            for (int i = 0; i < 3; i++) {
                try (NDManager step = root.newSubManager()) {
                    model.prefill(step, new int[][] {ids(40 + i, 19), ids(50 + i, 6)}, st); // 3 chunks of 8, padded
                    assertEquals(1, countAlive(step), "only the logits stay in the step manager");
                }
                assertEquals(st.arrays().size(), countAlive(st.manager), "state manager holds exactly the state");
            }
        }
        assertEquals(modelArrays, countAlive(model.manager()), "model arrays after closing the state");
    }

    /**
     * Decoding that goes on for TRIM_AFTER_DECODE_STEPS steps after a prefill of at least TRIM_AFTER_TOKENS tokens
     * hands the prefill's freed temporaries back to the kernel, once; a short prefill does not arm it, and another
     * long prefill before then (continuous batching's admissions) starts the count again.
     */
    @Test
    void decodingAfterALongPrefillTrimsTheHeapOnce() {
        int rows = 2;
        int len = NativeMemoryAdvice.TRIM_AFTER_TOKENS / rows;
        int steps = NativeMemoryAdvice.TRIM_AFTER_DECODE_STEPS;
        try (ModelState st = model.emptyState(rows); NDManager step = root.newSubManager()) {
            long before = NativeMemoryAdvice.trims();
            model.prefill(step, new int[][] {ids(60, len - 1), ids(61, 3)}, st); // 2 x 127 < 256
            decode(st, step, steps + 2);
            assertEquals(before, NativeMemoryAdvice.trims(), "decoding after a short prefill trimmed the heap");
            model.prefill(step, new int[][] {ids(62, len), ids(63, 5)}, st); // 2 x 128 = 256
            decode(st, step, steps - 1);
            model.prefill(step, new int[][] {ids(64, len), ids(65, 5)}, st); // an admission: the count starts again
            decode(st, step, steps - 1);
            assertEquals(before, NativeMemoryAdvice.trims(), "trimmed before " + steps + " decode steps in a row");
            decode(st, step, 1);
            assertEquals(before + 1, NativeMemoryAdvice.trims(), "decoding after a long prefill did not trim");
            decode(st, step, steps + 2);
            assertEquals(before + 1, NativeMemoryAdvice.trims(), "trimmed again without another long prefill");
        }
    }

    private static void decode(ModelState st, NDManager step, int n) {
        for (int i = 0; i < n; i++) {
            try (NDManager s = step.newSubManager()) {
                model.decode(s, new int[] {i % 61, (i * 3) % 61}, st);
            }
        }
    }

    @Test
    void softplusMatchesTorchIncludingItsThreshold() {
        float[] got = MambaMixer.softplus(root.create(new float[] {-30f, -1f, 0f, 5f, 19.9f, 20.5f, 100f})).toFloatArray();
        float[] want = {9.357623e-14f, 0.31326169f, 0.69314718f, 5.0067153f, 19.9f, 20.5f, 100f};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], Math.abs(want[i]) * 1e-6 + 1e-20, "softplus at " + i);
        }
    }

    private static int countAlive(NDManager m) {
        return (int) m.getManagedArrays().stream().filter(a -> !a.isReleased()).count();
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
