package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.model.GraniteConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Per-row decoding state of a batch: for every mamba layer the conv inputs and the SSM state, for every
 * attention layer K and V with a per-row key mask, and each row's real token count. Arrays live in this
 * state's own {@link NDManager}; the K/V buffers have spare capacity (doubling) so a decode step writes
 * one column in place instead of copying the whole cache.
 */
public final class ModelState implements AutoCloseable {
    private static final int MIN_KV_CAPACITY = 16;

    final GraniteConfig config;
    final DataType dtype;
    final NDManager manager;
    final int batch;
    final int[] lengths;
    /** Per layer (null for attention layers): [B, K, conv_dim], model dtype, oldest first. */
    final NDArray[] conv;
    /** Per layer (null for attention layers): [B, nh, hd, ds], fp32. */
    final NDArray[] ssm;
    /** Per layer (null for mamba layers): [B, nkv, capacity, hd], model dtype, post-RoPE. */
    final NDArray[] keys;
    /** Per layer (null for mamba layers): [B, nkv, capacity, hd], model dtype. */
    final NDArray[] values;
    /** [B, capacity] boolean: true where the key column holds a real token of that row. */
    NDArray keyMask;
    /** Used K/V columns (the same for all rows; pads are masked). */
    int kvLen;
    int capacity;
    private boolean closed;

    private ModelState(GraniteConfig config, DataType dtype, NDManager parent, int batch) {
        this.config = config;
        this.dtype = dtype;
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.lengths = new int[batch];
        int l = config.numHiddenLayers;
        conv = new NDArray[l];
        ssm = new NDArray[l];
        keys = new NDArray[l];
        values = new NDArray[l];
    }

    static ModelState empty(GraniteConfig c, DataType dtype, NDManager parent, int batch) {
        ModelState s = new ModelState(c, dtype, parent, batch);
        for (int i = 0; i < c.numHiddenLayers; i++) {
            if (c.layerType(i) == GraniteConfig.LayerType.MAMBA) {
                s.conv[i] = s.manager.zeros(new Shape(batch, c.mambaDConv, c.mambaConvDim()), dtype);
                s.ssm[i] = s.manager.zeros(
                        new Shape(batch, c.mambaNHeads, c.mambaDHead, c.mambaDState), DataType.FLOAT32);
            }
        }
        s.allocKv(0);
        return s;
    }

    private void allocKv(int cap) {
        capacity = cap;
        keyMask = manager.zeros(new Shape(batch, cap), DataType.BOOLEAN);
        for (int i = 0; i < config.numHiddenLayers; i++) {
            if (config.layerType(i) == GraniteConfig.LayerType.ATTENTION) {
                Shape s = new Shape(batch, config.numKeyValueHeads, cap, config.headDim());
                keys[i] = manager.zeros(s, dtype);
                values[i] = manager.zeros(s, dtype);
            }
        }
    }

    /** Makes room for {@code extra} more K/V columns (grows by doubling, copying the used part). */
    void ensureKvRoom(int extra) {
        int need = kvLen + extra;
        if (need <= capacity) return;
        int newCap = Math.max(need, Math.max(MIN_KV_CAPACITY, 2 * capacity));
        NDArray oldMask = keyMask;
        NDArray[] oldK = keys.clone();
        NDArray[] oldV = values.clone();
        allocKv(newCap);
        if (kvLen > 0) {
            NDIndex used = new NDIndex(":, :, :" + kvLen);
            try (NDManager tmp = manager.newSubManager()) {
                keyMask.set(new NDIndex(":, :" + kvLen), tmpGet(tmp, oldMask, new NDIndex(":, :" + kvLen)));
                for (int i = 0; i < keys.length; i++) {
                    if (keys[i] != null) {
                        keys[i].set(used, tmpGet(tmp, oldK[i], used));
                        values[i].set(used, tmpGet(tmp, oldV[i], used));
                    }
                }
            }
        }
        oldMask.close();
        for (int i = 0; i < keys.length; i++) {
            if (oldK[i] != null) {
                oldK[i].close();
                oldV[i].close();
            }
        }
    }

    private static NDArray tmpGet(NDManager tmp, NDArray a, NDIndex idx) {
        NDArray r = a.get(idx);
        r.attach(tmp);
        return r;
    }

    public int batchSize() { return batch; }

    /** Real tokens held for {@code row}. */
    public int length(int row) { return lengths[row]; }

    /** Bytes of all state arrays (K/V at their allocated capacity). */
    public long bytes() {
        long b = bytesOf(keyMask);
        for (int i = 0; i < conv.length; i++) {
            b += bytesOf(conv[i]) + bytesOf(ssm[i]) + bytesOf(keys[i]) + bytesOf(values[i]);
        }
        return b;
    }

    private static long bytesOf(NDArray a) {
        return a == null ? 0 : a.getShape().size() * a.getDataType().getNumOfBytes();
    }

    /** The state arrays of one layer (for temporary attachment while the layer runs). */
    List<NDArray> layerArrays(int layer) {
        List<NDArray> all = new ArrayList<>(2);
        for (NDArray a : new NDArray[] {conv[layer], ssm[layer], keys[layer], values[layer]}) {
            if (a != null) all.add(a);
        }
        return all;
    }

    /** All arrays. */
    List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>();
        all.add(keyMask);
        for (int i = 0; i < conv.length; i++) {
            for (NDArray a : new NDArray[] {conv[i], ssm[i], keys[i], values[i]}) {
                if (a != null) all.add(a);
            }
        }
        return all;
    }

    /** A copy of the given rows (a row may repeat, e.g. to fork a shared prefix). */
    public ModelState select(int[] rows) {
        checkOpen();
        ModelState s = new ModelState(config, dtype, manager.getParentManager(), rows.length);
        try (NDManager tmp = manager.newSubManager()) {
            NDArray idx = tmp.create(Arrays.stream(rows).mapToLong(r -> r).toArray());
            for (int i = 0; i < conv.length; i++) {
                s.conv[i] = take(conv[i], idx, s.manager);
                s.ssm[i] = take(ssm[i], idx, s.manager);
                s.keys[i] = take(keys[i], idx, s.manager);
                s.values[i] = take(values[i], idx, s.manager);
            }
            s.keyMask = take(keyMask, idx, s.manager);
        }
        for (int r = 0; r < rows.length; r++) s.lengths[r] = lengths[rows[r]];
        s.kvLen = kvLen;
        s.capacity = capacity;
        return s;
    }

    /** Rows of {@code a} picked by {@code idx} along axis 0, as a new array owned by {@code owner}. */
    private static NDArray take(NDArray a, NDArray idx, NDManager owner) {
        if (a == null) return null;
        NDArray r = a.get(new NDIndex("{}", idx));
        r.attach(owner);
        return r;
    }

    /** Rows of all parts stacked in order; K/V of shorter parts are padded with masked columns. */
    public static ModelState concat(List<ModelState> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat of no states");
        ModelState first = parts.get(0);
        int batch = parts.stream().mapToInt(p -> p.batch).sum();
        int kvLen = parts.stream().mapToInt(p -> p.kvLen).max().getAsInt();
        ModelState s = new ModelState(first.config, first.dtype, first.manager.getParentManager(), batch);
        int row = 0;
        for (ModelState p : parts) {
            p.checkOpen();
            System.arraycopy(p.lengths, 0, s.lengths, row, p.batch);
            row += p.batch;
        }
        int cap = Math.max(kvLen, MIN_KV_CAPACITY);
        try (NDManager tmp = s.manager.newSubManager()) {
            for (int i = 0; i < first.conv.length; i++) {
                final int layer = i;
                if (first.conv[i] != null) {
                    s.conv[i] = stack(tmp, s.manager, parts, p -> p.conv[layer]);
                    s.ssm[i] = stack(tmp, s.manager, parts, p -> p.ssm[layer]);
                }
                if (first.keys[i] != null) {
                    s.keys[i] = stack(tmp, s.manager, parts, p -> padColumns(tmp, p.keys[layer], p.kvLen, cap, 2));
                    s.values[i] = stack(tmp, s.manager, parts, p -> padColumns(tmp, p.values[layer], p.kvLen, cap, 2));
                }
            }
            s.keyMask = stack(tmp, s.manager, parts, p -> padColumns(tmp, p.keyMask, p.kvLen, cap, 1));
        }
        s.kvLen = kvLen;
        s.capacity = cap;
        return s;
    }

    /** a[..used..] along {@code axis} (1 or 2) zero-padded to {@code cap} columns, in tmp. */
    private static NDArray padColumns(NDManager tmp, NDArray a, int used, int cap, int axis) {
        Shape sh = a.getShape();
        long[] dims = sh.getShape().clone();
        dims[axis] = cap;
        NDArray out = tmp.zeros(new Shape(dims), a.getDataType());
        if (used > 0) {
            NDIndex idx = axis == 1 ? new NDIndex(":, :" + used) : new NDIndex(":, :, :" + used);
            NDArray part = a.get(idx);
            part.attach(tmp);
            out.set(idx, part);
        }
        return out;
    }

    private static NDArray stack(NDManager tmp, NDManager owner, List<ModelState> parts,
            java.util.function.Function<ModelState, NDArray> f) {
        NDList list = new NDList();
        for (ModelState p : parts) list.add(f.apply(p));
        NDArray r = NDArrays.concat(list, 0);
        r.attach(owner);
        return r;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("ModelState is closed");
    }

    public boolean isClosed() { return closed; }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
