package dev.quarry.engine.internal.sched;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * A tiny recurrent model on real NDArrays (test only): h = tanh(h A + E[t]), logits = h W. Each row
 * depends only on its own tokens, like the real model. Optional delay per call makes it slow.
 */
final class ToyModel implements StepModel {
    static final int V = 136, D = 16;
    private final NDManager manager = NDManager.newBaseManager();
    private final NDArray e, a, w;
    private final long delayMs;
    volatile RuntimeException failNextDecode;
    /** Most tokens (summed over rows) any one prefill call was given. */
    volatile int largestPrefill;

    ToyModel(long seed, long delayMs) {
        this.delayMs = delayMs;
        manager.getEngine().setRandomSeed((int) seed);
        e = manager.randomNormal(new Shape(V, D));
        a = manager.randomNormal(new Shape(D, D)).mul(0.5f);
        w = manager.randomNormal(new Shape(D, V)).mul(2f);
    }

    final class State implements BatchState {
        final NDManager m = manager.newSubManager();
        NDArray h;

        State(NDArray h) { this.h = h; h.attach(m); }

        @Override public int batchSize() { return (int) h.getShape().get(0); }
        @Override public long bytes() { return h.size() * 4; }
        @Override public BatchState select(int[] rows) {
            try (NDManager t = manager.newSubManager()) {
                NDArray idx = t.create(rows).toType(DataType.INT64, false);
                return new State(h.get(idx));
            }
        }
        @Override public void appendRows(BatchState src) {
            set(h.concat(((State) src).h, 0));
        }
        @Override public void removeRow(int row) {
            int n = batchSize();
            int[] keep = new int[n - 1];
            for (int i = 0; i < n - 1; i++) keep[i] = i == row ? n - 1 : i;
            try (NDManager t = manager.newSubManager()) {
                NDArray idx = t.create(keep).toType(DataType.INT64, false);
                set(n == 1 ? manager.zeros(new Shape(0, D)) : h.get(idx));
            }
        }
        @Override public void close() { m.close(); }
        void set(NDArray nh) { NDArray old = h; h = nh; h.attach(m); old.close(); }
    }

    @Override public int vocabSize() { return V; }

    @Override public BatchState emptyState(int batch) { return new State(manager.zeros(new Shape(batch, D))); }

    @Override public BatchState newPool(int rowCapacity, int maxRows) { return new State(manager.zeros(new Shape(0, D))); }

    private NDArray step(NDArray h, NDArray tok) {
        return h.matMul(a).add(e.get(tok)).tanh();
    }

    @Override
    public NDArray prefill(NDManager stepM, int[][] ids, BatchState state) {
        sleep();
        int tokens = 0;
        for (int[] r : ids) tokens += r.length;
        largestPrefill = Math.max(largestPrefill, tokens);
        State s = (State) state;
        NDArray[] rows = new NDArray[ids.length];
        for (int r = 0; r < ids.length; r++) {
            NDArray h = s.h.get(r + ":" + (r + 1));
            h.attach(stepM);
            for (int t : ids[r]) {
                NDArray nh = step(h, stepM.create(new long[] {t}));
                nh.attach(stepM);
                h = nh;
            }
            rows[r] = h;
        }
        NDArray nh = NDArrays.concat(new NDList(rows), 0);
        s.set(nh);
        NDArray logits = nh.matMul(w);
        logits.attach(stepM);
        return logits;
    }

    @Override
    public NDArray decode(NDManager stepM, int[] ids, BatchState state) {
        sleep();
        RuntimeException f = failNextDecode;
        if (f != null) { failNextDecode = null; throw f; }
        State s = (State) state;
        long[] t = new long[ids.length];
        for (int i = 0; i < ids.length; i++) t[i] = ids[i];
        NDArray nh = step(s.h, stepM.create(t));
        s.set(nh);
        NDArray logits = nh.matMul(w);
        logits.attach(stepM);
        return logits;
    }

    @Override
    public BatchState concat(List<BatchState> parts) {
        NDList l = new NDList();
        for (BatchState p : parts) l.add(((State) p).h);
        return new State(NDArrays.concat(l, 0));
    }

    @Override public long stateBytes(int tokens) { return D * 4L + tokens * 8L; }

    private void sleep() {
        if (delayMs > 0) {
            try { Thread.sleep(delayMs); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); }
        }
    }

    @Override public void close() { manager.close(); }
}
