package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.model.GraniteConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The state slot pool ({@link ModelState#pool}) on the tiny hybrid (mamba + attention, MoE, RoPE, ng=2):
 * sequences joining and leaving at different steps, a pool that starts too small (rows double) and K/V
 * columns that run out (compaction, then doubling), decode exactly like each sequence alone; decode
 * steps update the slots in place (same storage arrays, same bytes).
 */
class ModelStatePoolTest {
    static GraniteModel model;

    @BeforeAll
    static void load() {
        GraniteConfig c = RandomWeights.tiny(true, true);
        model = GraniteModel.load(c, new RandomWeights(c, 11, DataType.FLOAT32), Device.cpu(), DataType.FLOAT32);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    record Seq(int id, int[] prompt, int join, int steps) {}

    static int argMax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    static float[] row(NDArray logits, int r) {
        return logits.get(r).toFloatArray();
    }

    /** Logits of each step of a sequence run alone (prefill, then greedy decode). */
    static List<float[]> alone(Seq s) {
        List<float[]> out = new ArrayList<>();
        try (NDManager step = NDManager.newBaseManager(); ModelState st = model.emptyState(1)) {
            float[] l = row(model.prefill(step, new int[][] {s.prompt}, st), 0);
            out.add(l);
            for (int k = 0; k < s.steps; k++) {
                l = row(model.decode(step, new int[] {argMax(l)}, st), 0);
                out.add(l);
            }
        }
        return out;
    }

    @Test
    void joiningAndLeavingRowsDecodeLikeEachAlone() {
        Random r = new Random(4);
        int vocab = model.config().vocabSize;
        // {prompt length, join step, decode steps}: a long first row that leaves early (its columns become
        // holes), late arrivals with long prompts, rows that outlive everything else
        int[][] plan = {{20, 0, 2}, {2, 0, 20}, {4, 0, 10}, {6, 3, 12}, {24, 5, 3}, {3, 8, 14}, {1, 12, 5}, {8, 14, 6},
                {5, 14, 2}};
        List<Seq> seqs = new ArrayList<>();
        for (int i = 0; i < plan.length; i++) {
            int[] p = new int[plan[i][0]];
            for (int j = 0; j < p.length; j++) p[j] = r.nextInt(vocab);
            seqs.add(new Seq(i, p, plan[i][1], plan[i][2]));
        }
        Map<Integer, List<float[]>> want = new HashMap<>();
        for (Seq s : seqs) want.put(s.id, alone(s));

        Map<Integer, List<float[]>> got = new HashMap<>();
        List<Seq> live = new ArrayList<>();
        Map<Integer, float[]> last = new HashMap<>();
        int finished = 0;
        int steadySteps = 0;
        try (ModelState pool = ModelState.pool(model, 2, 6)) {
            for (int t = 0; finished < seqs.size(); t++) {
                try (NDManager step = NDManager.newBaseManager()) {
                    // arrivals: prefilled together in a fresh state, copied into free slots
                    List<Seq> arr = new ArrayList<>();
                    for (Seq s : seqs) if (s.join == t) arr.add(s);
                    if (!arr.isEmpty()) {
                        int[][] ids = new int[arr.size()][];
                        for (int i = 0; i < ids.length; i++) ids[i] = arr.get(i).prompt;
                        try (ModelState fresh = model.emptyState(arr.size())) {
                            NDArray l = model.prefill(step, ids, fresh);
                            pool.appendRows(fresh);
                            for (int i = 0; i < arr.size(); i++) {
                                float[] f = row(l, i);
                                got.computeIfAbsent(arr.get(i).id, k -> new ArrayList<>()).add(f);
                                last.put(arr.get(i).id, f);
                            }
                        }
                        live.addAll(arr);
                    }
                    assertEquals(live.size(), pool.batchSize());
                    if (live.isEmpty()) continue;
                    int[] tok = new int[live.size()];
                    for (int i = 0; i < tok.length; i++) tok[i] = argMax(last.get(live.get(i).id));
                    NDArray[] convBefore = pool.sConv.clone();
                    NDArray[] ssmBefore = pool.sSsm.clone();
                    NDArray[] keysBefore = pool.sKeys.clone();
                    long bytesBefore = pool.bytes();
                    int capBefore = pool.kvCapacity();
                    NDArray l = model.decode(step, tok, pool);
                    if (pool.kvCapacity() == capBefore) { // no K/V growth this step: every slot array updated in place
                        steadySteps++;
                        assertArrayEquals(convBefore, pool.sConv);
                        assertArrayEquals(ssmBefore, pool.sSsm);
                        assertArrayEquals(keysBefore, pool.sKeys);
                        assertEquals(bytesBefore, pool.bytes());
                    }
                    for (int i = 0; i < live.size(); i++) {
                        float[] f = row(l, i);
                        got.get(live.get(i).id).add(f);
                        last.put(live.get(i).id, f);
                    }
                    // leaving rows: highest index first, the last row refills the hole
                    for (int i = live.size() - 1; i >= 0; i--) {
                        Seq s = live.get(i);
                        if (got.get(s.id).size() == s.steps + 1) {
                            pool.removeRow(i);
                            live.set(i, live.get(live.size() - 1));
                            live.remove(live.size() - 1);
                            finished++;
                        }
                    }
                }
            }
            assertEquals(0, pool.batchSize());
            assertEquals(6, pool.rowCapacity(), "the pool doubled from 2 slots up to its maximum of 6 (6 live at once)");
            assertTrue(pool.compactions > 0, "K/V columns were compacted");
            assertTrue(steadySteps > 10, "steady steps " + steadySteps);
        }
        for (Seq s : seqs) {
            List<float[]> w = want.get(s.id), g = got.get(s.id);
            assertEquals(w.size(), g.size(), "sequence " + s.id);
            for (int k = 0; k < w.size(); k++) {
                assertArrayEquals(w.get(k), g.get(k), 1e-4f, "sequence " + s.id + " step " + k);
                assertEquals(argMax(w.get(k)), argMax(g.get(k)));
            }
        }
    }

    @Test
    void forkedPrefixRowsJoinAPoolAndTheLastRowRefillsAHole() {
        try (NDManager step = NDManager.newBaseManager();
                ModelState prefix = model.emptyState(1);
                ModelState pool = ModelState.pool(model, 4)) {
            model.prefill(step, new int[][] {{5, 6, 7, 8, 9}}, prefix);
            try (ModelState forks = prefix.select(new int[] {0, 0, 0})) {
                pool.appendRows(forks);
            }
            assertEquals(3, pool.batchSize());
            NDArray a = model.prefill(step, new int[][] {{1}, {2, 3}, {4}}, pool); // prefill on pool rows works too
            assertEquals(7, pool.length(1));
            pool.removeRow(0); // row 2 moves into slot 0
            assertEquals(2, pool.batchSize());
            assertEquals(6, pool.length(0));
            assertEquals(7, pool.length(1));
            NDArray b = model.decode(step, new int[] {argMax(row(a, 2)), argMax(row(a, 1))}, pool);
            try (ModelState ref = model.emptyState(1)) {
                model.prefill(step, new int[][] {{5, 6, 7, 8, 9, 4}}, ref);
                NDArray want = model.decode(step, new int[] {argMax(row(a, 2))}, ref);
                assertArrayEquals(row(want, 0), row(b, 0), 1e-4f);
            }
        }
    }

    @Test
    void appendingRowsWiderThanTheColumnsAfterACompactionGrowsTheColumns() {
        int[] a = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, b = {2}, c = new int[17];
        for (int i = 0; i < c.length; i++) c[i] = 20 + i;
        try (NDManager step = NDManager.newBaseManager(); ModelState pool = ModelState.pool(model, 4)) {
            for (int[] p : new int[][] {a, b}) {
                try (ModelState s = model.emptyState(1)) {
                    model.prefill(step, new int[][] {p}, s);
                    pool.appendRows(s);
                }
            }
            assertEquals(16, pool.kvCapacity());
            pool.removeRow(0); // b moves to slot 0; 13 of the 14 used columns are holes now
            assertEquals(14, pool.kvLength());
            NDArray lc;
            try (ModelState s = model.emptyState(1)) {
                lc = model.prefill(step, new int[][] {c}, s);
                pool.appendRows(s); // 17 columns > 16: the columns grow
            }
            assertEquals(17, pool.kvLength());
            assertTrue(pool.kvCapacity() >= 17, "capacity " + pool.kvCapacity());
            NDArray l = model.decode(step, new int[] {1, argMax(row(lc, 0))}, pool);
            try (ModelState rb = model.emptyState(1); ModelState rc = model.emptyState(1)) {
                model.prefill(step, new int[][] {b}, rb);
                model.prefill(step, new int[][] {c}, rc);
                assertArrayEquals(row(model.decode(step, new int[] {1}, rb), 0), row(l, 0), 1e-4f);
                assertArrayEquals(row(model.decode(step, new int[] {argMax(row(lc, 0))}, rc), 0), row(l, 1), 1e-4f);
            }
        }
    }

    @Test
    void poolStepsAndMembershipChangesLeakNoArrays() {
        int modelArrays = countAlive(model.manager());
        try (NDManager root = NDManager.newBaseManager(); ModelState pool = ModelState.pool(model, 4)) {
            int stateArrays = -1;
            for (int i = 0; i < 60; i++) {
                try (NDManager step = root.newSubManager()) {
                    if (i % 20 == 0) { // a row joins
                        try (ModelState s = model.emptyState(1); NDManager pre = root.newSubManager()) {
                            model.prefill(pre, new int[][] {{1 + i % 50, 2, 3}}, s);
                            pool.appendRows(s);
                        }
                    }
                    if (i % 20 == 10 && pool.batchSize() > 1) pool.removeRow(0); // a row leaves
                    int[] tok = new int[pool.batchSize()];
                    for (int r = 0; r < tok.length; r++) tok[r] = (i * 7 + r) % 50;
                    model.decode(step, tok, pool);
                    assertEquals(1, countAlive(step), "only the logits stay in the step manager");
                }
                int alive = countAlive(pool.manager);
                if (stateArrays < 0) stateArrays = alive;
                // storage + one view per storage array, whatever joined, left or grew
                assertEquals(stateArrays, alive, "state arrays at step " + i);
            }
        }
        assertEquals(modelArrays, countAlive(model.manager()), "model arrays after closing the pool");
    }

    private static int countAlive(NDManager m) {
        return (int) m.getManagedArrays().stream().filter(a -> !a.isReleased()).count();
    }
}
