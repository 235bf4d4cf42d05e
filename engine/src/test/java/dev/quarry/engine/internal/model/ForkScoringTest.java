package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.model.GraniteConfig;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Label scoring on forks ({@link GraniteModel#scoreForks}: every fork reads its row's state, nothing is copied)
 * equals feeding each fork token by token on its own copy of the row's state and summing log-softmax of the
 * targets; the rows' state is left as it was. Random tiny weights: Mamba with 2 groups and chunk 8, attention
 * with NoPE or RoPE, dense or MoE, fp32 or bf16 linears.
 */
class ForkScoringTest {
    static final int VOCAB = 61;

    static int[] ids(Random r, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(VOCAB);
        return a;
    }

    /** Σ_j log softmax(logits after ids[j], first {@code vocab})[targets[j]], one decode step per token on a copy of row {@code row}. */
    static double stepByStep(GraniteModel m, NDManager root, ModelState st, int row, int[] ids, int[] targets, int vocab) {
        double sum = 0;
        try (ModelState copy = st.select(new int[] {row}); NDManager step = root.newSubManager()) {
            for (int j = 0; j < ids.length; j++) {
                NDArray logits = m.decode(step, new int[] {ids[j]}, copy);
                float[] row0 = logits.get(0).toFloatArray();
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int v = 0; v < vocab; v++) max = Math.max(max, row0[v]);
                for (int v = 0; v < vocab; v++) z += Math.exp(row0[v] - max);
                sum += row0[targets[j]] - max - Math.log(z);
            }
        }
        return sum;
    }

    /** Logits of one more token on a copy of every row: changes if anything in the rows' state changed. */
    static float[] probe(GraniteModel m, NDManager root, ModelState st) {
        int[] all = new int[st.batchSize()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        int[] tok = new int[all.length];
        java.util.Arrays.fill(tok, 5);
        try (ModelState copy = st.select(all); NDManager step = root.newSubManager()) {
            return m.decode(step, tok, copy).toFloatArray();
        }
    }

    @ParameterizedTest(name = "rope={0} moe={1} bf16={2}")
    @CsvSource({"false,false,false", "true,false,false", "false,true,false", "true,true,false", "false,false,true", "true,true,true"})
    void forksEqualEachForkAloneOnACopyAndLeaveTheStateAsItWas(boolean rope, boolean moe, boolean bf16) {
        GraniteConfig c = RandomWeights.tiny(rope, moe);
        DataType dt = bf16 ? DataType.BFLOAT16 : DataType.FLOAT32;
        double tol = bf16 ? 1e-3 : 1e-4; // bf16: the same bf16 linears over differently grouped rows (within 1e-4 here)
        try (GraniteModel m = GraniteModel.load(c, new RandomWeights(c, 11, dt), Device.cpu(), dt);
                NDManager root = NDManager.newBaseManager(Device.cpu())) {
            Random r = new Random(rope ? 5 : 6);
            int[][] prompts = {ids(r, 13), ids(r, 4), ids(r, 21)}; // ragged: rows are left-padded in the state
            int forks = 3;
            int vocab = 57; // a decodable vocabulary smaller than the logits
            try (ModelState st = m.emptyState(prompts.length); NDManager step = root.newSubManager()) {
                m.prefill(step, prompts, st);
                for (int[] rows : new int[][] {{0, 1, 2}, {2, 0}}) { // all rows in order, and a subset out of order
                    int f = rows.length * forks;
                    int[][] fed = new int[f][];
                    int[][] targets = new int[f][];
                    for (int k = 0; k < f; k++) {
                        int n = 1 + r.nextInt(k == 0 ? 1 : 7); // 1..7 tokens: ragged forks, one of a single token
                        fed[k] = ids(r, n);
                        targets[k] = new int[n];
                        for (int j = 0; j < n; j++) targets[k][j] = r.nextInt(vocab);
                    }
                    float[] before = probe(m, root, st);
                    double[] got = m.scoreForks(step, st, rows, forks, fed, targets, vocab);
                    assertArrayEquals(before, probe(m, root, st), 0f, "the rows' state is unchanged");
                    for (int k = 0; k < f; k++) {
                        double want = stepByStep(m, root, st, rows[k / forks], fed[k], targets[k], vocab);
                        assertEquals(want, got[k], tol * Math.max(1, Math.abs(want)), "rows " + java.util.Arrays.toString(rows) + " fork " + k);
                    }
                    // the same forks scored on copies with a prefill (the path for forks longer than one chunk)
                    int[] of = new int[f];
                    for (int k = 0; k < f; k++) of[k] = rows[k / forks];
                    try (ModelState copies = st.select(of)) {
                        double[] onCopies = m.scoreTargets(step, fed, targets, copies, vocab);
                        for (int k = 0; k < f; k++) assertEquals(onCopies[k], got[k], tol * Math.max(1, Math.abs(got[k])), "copies, fork " + k);
                    }
                }
                // forks longer than one SSD chunk (8 here) are scored on copies, with the same result
                int[][] longFed = {ids(r, 11), ids(r, 2)};
                int[][] longTargets = {ids(r, 11), ids(r, 2)};
                double[] got = m.scoreForks(step, st, new int[] {1}, 2, longFed, longTargets, VOCAB);
                for (int k = 0; k < 2; k++) {
                    double want = stepByStep(m, root, st, 1, longFed[k], longTargets[k], VOCAB);
                    assertEquals(want, got[k], tol * Math.max(1, Math.abs(want)), "long fork " + k);
                }
                assertThrows(IllegalArgumentException.class,
                        () -> m.scoreForks(step, st, new int[] {0}, 2, new int[][] {{1}, {2}}, new int[][] {{1}, {60}}, 57),
                        "a target outside the decodable vocabulary");
                // short and long labels: scored in two passes by length (rows out of order, so on copies of them)
                int[] rows = {2, 0, 1};
                int[] lens = {2, 8, 2, 8, 1, 2, 8, 7, 2, 2, 8, 8};
                int[][] fed = new int[lens.length][];
                int[][] targets = new int[lens.length][];
                for (int k = 0; k < lens.length; k++) {
                    fed[k] = ids(r, lens[k]);
                    targets[k] = ids(r, lens[k]);
                }
                assertEquals(2, GraniteModel.forkPasses(fed, rows.length, 4).size(), "the plan splits this batch");
                double[] split = m.scoreForks(step, st, rows, 4, fed, targets, VOCAB);
                // against the same forks prefilled on copies of their rows (a routing tie in bf16 MoE can tell a
                // prefill from step-by-step decoding; the first case above compares those two)
                int[] of = new int[lens.length];
                for (int k = 0; k < lens.length; k++) of[k] = rows[k / 4];
                try (ModelState copies = st.select(of)) {
                    double[] want = m.scoreTargets(step, fed, targets, copies, VOCAB);
                    for (int k = 0; k < lens.length; k++) {
                        assertEquals(want[k], split[k], tol * Math.max(1, Math.abs(want[k])), "two passes, fork " + k);
                    }
                }
            }
        }
    }

    static int[][] ofLengths(int rows, int... perRow) {
        int[][] ids = new int[rows * perRow.length][];
        for (int i = 0; i < ids.length; i++) ids[i] = new int[perRow[i % perRow.length]];
        return ids;
    }

    @org.junit.jupiter.api.Test
    void forksOfDifferentLengthsGoInPassesWhenThePaddingCostsMoreThanAPass() {
        // the bench's labels (billing, technical, account, other: 7, 9, 7, 5 fed tokens) for 32 records: one pass
        // would pad 1152 rows for 896 real ones; by length 896 + 3 passes
        var passes = GraniteModel.forkPasses(ofLengths(32, 7, 9, 7, 5), 32, 4);
        assertEquals(List.of("5-5", "7-7", "9-9"), passes.stream().map(p -> p[0] + "-" + p[1]).toList());
        // equal lengths, or too little padding to pay for a pass: one pass
        assertEquals(1, GraniteModel.forkPasses(ofLengths(32, 3, 3, 3), 32, 3).size());
        assertEquals(1, GraniteModel.forkPasses(ofLengths(1, 3, 4), 1, 2).size());
        // nearby lengths share a pass, a far one gets its own
        passes = GraniteModel.forkPasses(ofLengths(16, 4, 5, 30), 16, 3);
        assertEquals(List.of("4-5", "30-30"), passes.stream().map(p -> p[0] + "-" + p[1]).toList());
    }
}
