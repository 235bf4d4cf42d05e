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
 *
 * <p>A <em>pooled</em> state ({@link #pool}) is a set of reusable slots: storage arrays with a row
 * capacity, of which the first {@link #batchSize()} rows are active. The arrays the model reads and
 * writes ({@link #conv}, {@link #ssm}, {@link #keys}, {@link #values}, {@link #keyMask}) are then views of
 * those rows, so in-place updates (a Mamba decode step's conv window and SSM state, K/V and mask {@code set}) land
 * in the slots; a state array the model replaces during a step (a prefilled conv or SSM state) is copied into
 * its slot when the step's layer ends ({@link #commitLayer}). Rows join by {@link #appendRows} (copied into
 * the next free slots) and leave by {@link #removeRow} (the last row moves into the hole): only the
 * rows that change membership move, and no state array is reallocated per step.
 */
public final class ModelState implements AutoCloseable {
    private static final int MIN_KV_CAPACITY = 16;

    final GraniteConfig config;
    final DataType dtype;
    final NDManager manager;
    /** Active rows. */
    int batch;
    /** Real tokens per row (length = allocated rows). */
    int[] lengths;
    /** Whether this is a slot pool (storage arrays below, views above). */
    final boolean pooled;
    /** Allocated rows (== batch unless pooled). */
    int rows;
    /** Pool: the row capacity never doubles beyond this. */
    int maxRows = Integer.MAX_VALUE;
    /** Pool storage ([rows, ...]); null unless pooled. */
    NDArray[] sConv, sSsm, sKeys, sValues;
    NDArray sMask;
    /** K/V compactions done (pool; tests). */
    int compactions;
    /** The views currently handed out as conv/ssm (to detect arrays the model replaced in a step). */
    NDArray[] vConv, vSsm;
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
    /** Conv and SSM arrays are broadcast views of another state's row ({@link #forkForPrefill}): read-only. */
    boolean sharedMamba;

    private ModelState(GraniteConfig config, DataType dtype, NDManager parent, int batch) {
        this(config, dtype, parent, batch, false);
    }

    private ModelState(GraniteConfig config, DataType dtype, NDManager parent, int batch, boolean pooled) {
        this.config = config;
        this.dtype = dtype;
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.rows = batch;
        this.pooled = pooled;
        this.lengths = new int[batch];
        int l = config.numHiddenLayers;
        conv = new NDArray[l];
        ssm = new NDArray[l];
        keys = new NDArray[l];
        values = new NDArray[l];
    }

    /**
     * An empty slot pool of {@code rowCapacity} rows (0 active) for the model's shapes. Rows are added by
     * {@link #appendRows}; the capacity doubles when more are appended than it holds.
     */
    public static ModelState pool(GraniteModel model, int rowCapacity) {
        return pool(model, rowCapacity, Integer.MAX_VALUE);
    }

    /** A pool whose row capacity doubles at most up to {@code maxRows} (more rows than that are an error). */
    public static ModelState pool(GraniteModel model, int rowCapacity, int maxRows) {
        if (rowCapacity < 1) throw new IllegalArgumentException("row capacity must be >= 1, got " + rowCapacity);
        if (maxRows < rowCapacity) throw new IllegalArgumentException("maxRows " + maxRows + " < row capacity " + rowCapacity);
        GraniteConfig c = model.config();
        ModelState s = new ModelState(c, model.dtype(), model.manager(), 0, true);
        s.rows = rowCapacity;
        s.maxRows = maxRows;
        s.lengths = new int[rowCapacity];
        int l = c.numHiddenLayers;
        s.sConv = new NDArray[l];
        s.sSsm = new NDArray[l];
        s.sKeys = new NDArray[l];
        s.sValues = new NDArray[l];
        s.vConv = new NDArray[l];
        s.vSsm = new NDArray[l];
        for (int i = 0; i < l; i++) {
            if (c.layerType(i) == GraniteConfig.LayerType.MAMBA) {
                s.sConv[i] = s.manager.zeros(new Shape(rowCapacity, c.mambaDConv, c.mambaConvDim()), s.dtype);
                s.sSsm[i] = s.manager.zeros(new Shape(rowCapacity, c.mambaNHeads, c.mambaDHead, c.mambaDState), DataType.FLOAT32);
            }
        }
        s.allocKv(0);
        return s;
    }

    /** Allocated rows (slots); equals {@link #batchSize()} unless this is a pool. */
    public int rowCapacity() { return rows; }

    /** K/V columns allocated per row. */
    public int kvCapacity() { return capacity; }

    /** K/V columns in use (the same for all rows; each row's own columns are marked in the key mask). */
    public int kvLength() { return kvLen; }

    /** Re-creates the views of the first {@link #batch} rows of the pool storage. */
    private void refreshViews() {
        String active = ":" + batch;
        for (int i = 0; i < conv.length; i++) {
            if (sConv[i] != null) {
                closeQuietly(conv[i]);
                closeQuietly(ssm[i]);
                conv[i] = vConv[i] = sConv[i].get(active);
                ssm[i] = vSsm[i] = sSsm[i].get(active);
            }
            if (sKeys[i] != null) {
                closeQuietly(keys[i]);
                closeQuietly(values[i]);
                keys[i] = sKeys[i].get(active);
                values[i] = sValues[i].get(active);
            }
        }
        closeQuietly(keyMask);
        keyMask = sMask.get(active);
    }

    private static void closeQuietly(NDArray a) {
        if (a != null) a.close();
    }

    /**
     * End of a layer's part of a model step on a pooled state: the conv / SSM arrays the model replaced (instead of
     * updating in place) are copied into their slots and freed, so the model always sees views of the pool. Done per
     * layer, not per step, so a prefill holds one layer's replaced arrays at a time, not a second copy of the whole
     * state (32 h-350m rows: ~0.75 GB).
     */
    void commitLayer(int i) {
        if (!pooled || sConv[i] == null) return;
        if (conv[i] != vConv[i]) conv[i] = vConv[i] = writeBack(sConv[i], conv[i]);
        if (ssm[i] != vSsm[i]) ssm[i] = vSsm[i] = writeBack(sSsm[i], ssm[i]);
    }

    /** Copies {@code fresh} into the active rows of {@code storage}, frees it, returns the new view. */
    private NDArray writeBack(NDArray storage, NDArray fresh) {
        NDArray view = storage.get(":" + batch);
        view.attach(manager);
        view.set(new NDIndex("..."), fresh);
        fresh.close();
        return view;
    }

    /**
     * Copies every row of {@code src} into the next free slots (rows {@code batch .. batch+n-1}), growing
     * the row capacity (doubling) or the K/V capacity when needed. {@code src} is left unchanged.
     */
    public void appendRows(ModelState src) {
        if (!pooled) throw new IllegalStateException("appendRows needs a pooled state");
        checkOpen();
        src.checkOpen();
        int n = src.batch;
        if (n == 0) return;
        int need = batch + n;
        if (need > rows) {
            if (need > maxRows) throw new IllegalStateException(need + " rows exceed the pool's maximum of " + maxRows);
            growRows(Math.max(need, (int) Math.min(maxRows, 2L * rows)));
        }
        if (src.kvLen > capacity) growPoolKv(Math.max(src.kvLen, Math.max(MIN_KV_CAPACITY, 2 * capacity)));
        NDIndex slots = new NDIndex(batch + ":" + need);
        try (NDManager tmp = manager.newSubManager()) {
            for (int i = 0; i < conv.length; i++) {
                if (sConv[i] != null) {
                    sConv[i].set(slots, src.conv[i]);
                    sSsm[i].set(slots, src.ssm[i]);
                }
                if (sKeys[i] != null && src.kvLen > 0) {
                    NDIndex cols = new NDIndex(batch + ":" + need + ", :, :" + src.kvLen);
                    sKeys[i].set(cols, tmpGet(tmp, src.keys[i], new NDIndex(":, :, :" + src.kvLen)));
                    sValues[i].set(cols, tmpGet(tmp, src.values[i], new NDIndex(":, :, :" + src.kvLen)));
                }
            }
            if (capacity > 0) {
                sMask.set(slots, tmp.zeros(new Shape(n, capacity), DataType.BOOLEAN));
                if (src.kvLen > 0) {
                    sMask.set(new NDIndex(batch + ":" + need + ", :" + src.kvLen),
                            tmpGet(tmp, src.keyMask, new NDIndex(":, :" + src.kvLen)));
                }
            }
        }
        System.arraycopy(src.lengths, 0, lengths, batch, n);
        kvLen = Math.max(kvLen, src.kvLen);
        batch = need;
        refreshViews();
    }

    /** Frees slot {@code row}: the last active row moves into it (in place); the active rows stay compact. */
    public void removeRow(int row) {
        if (!pooled) throw new IllegalStateException("removeRow needs a pooled state");
        checkOpen();
        if (row < 0 || row >= batch) throw new IndexOutOfBoundsException("row " + row + " of " + batch);
        int last = batch - 1;
        if (row != last) {
            try (NDManager tmp = manager.newSubManager()) {
                NDIndex to = new NDIndex(row);
                for (int i = 0; i < conv.length; i++) {
                    if (sConv[i] != null) {
                        sConv[i].set(to, tmpGet(tmp, sConv[i], new NDIndex(last)));
                        sSsm[i].set(to, tmpGet(tmp, sSsm[i], new NDIndex(last)));
                    }
                    if (sKeys[i] != null && kvLen > 0) {
                        NDIndex cols = new NDIndex(row + ", :, :" + kvLen);
                        sKeys[i].set(cols, tmpGet(tmp, sKeys[i], new NDIndex(last + ", :, :" + kvLen)));
                        sValues[i].set(cols, tmpGet(tmp, sValues[i], new NDIndex(last + ", :, :" + kvLen)));
                    }
                }
                if (capacity > 0) sMask.set(to, tmpGet(tmp, sMask, new NDIndex(last)));
            }
            lengths[row] = lengths[last];
        }
        lengths[last] = 0;
        batch = last;
        if (batch == 0) kvLen = 0; // every column is free again
        refreshViews();
    }

    /** Grows the pool to {@code newRows} slots, copying the active rows. */
    private void growRows(int newRows) {
        NDIndex act = new NDIndex(":" + batch);
        try (NDManager tmp = manager.newSubManager()) {
            for (int i = 0; i < conv.length; i++) {
                if (sConv[i] != null) {
                    sConv[i] = regrow(tmp, sConv[i], newRows, act);
                    sSsm[i] = regrow(tmp, sSsm[i], newRows, act);
                }
                if (sKeys[i] != null) {
                    sKeys[i] = regrow(tmp, sKeys[i], newRows, act);
                    sValues[i] = regrow(tmp, sValues[i], newRows, act);
                }
            }
            sMask = regrow(tmp, sMask, newRows, act);
        }
        lengths = Arrays.copyOf(lengths, newRows);
        rows = newRows;
        refreshViews();
    }

    private NDArray regrow(NDManager tmp, NDArray old, int newRows, NDIndex act) {
        long[] dims = old.getShape().getShape().clone();
        dims[0] = newRows;
        NDArray fresh = manager.zeros(new Shape(dims), old.getDataType());
        if (batch > 0) fresh.set(act, tmpGet(tmp, old, act));
        old.close();
        return fresh;
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
        if (pooled) {
            sMask = manager.zeros(new Shape(rows, cap), DataType.BOOLEAN);
            for (int i = 0; i < config.numHiddenLayers; i++) {
                if (config.layerType(i) == GraniteConfig.LayerType.ATTENTION) {
                    Shape s = new Shape(rows, config.numKeyValueHeads, cap, config.headDim());
                    sKeys[i] = manager.zeros(s, dtype);
                    sValues[i] = manager.zeros(s, dtype);
                }
            }
            refreshViews();
            return;
        }
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
        if (pooled) {
            // out of columns: first squeeze out the masked columns (rows that left, pads), then grow
            // (doubling) only if the live rows still need more than half of the capacity
            compactKv();
            need = kvLen + extra;
            if (need > capacity / 2) growPoolKv(Math.max(need, Math.max(MIN_KV_CAPACITY, 2 * capacity)));
            return;
        }
        allocKvKeepingUsed(newCap, keys, values, () -> keyMask, ":");
    }

    /**
     * Pool: moves each active row's real K/V columns to the left (their order kept) so that the used
     * columns shrink to the longest row's token count; the key mask follows. Attention reads keys through
     * the mask only (positions are per row, applied before caching), so this changes no result; it also
     * gives every row the contiguous layout it would have alone.
     */
    void compactKv() {
        if (!pooled || batch == 0 || kvLen == 0) {
            if (pooled && batch == 0) kvLen = 0;
            return;
        }
        int longest = 0;
        for (int r = 0; r < batch; r++) longest = Math.max(longest, lengths[r]);
        if (longest >= kvLen) return;
        compactions++;
        try (NDManager tmp = manager.newSubManager()) {
            NDArray used = tmpGet(tmp, sMask, new NDIndex(":" + batch + ", :" + kvLen));
            NDArray col = tmp.arange(0, kvLen, 1, DataType.INT64).reshape(1, kvLen);
            // real columns first, in their order: sort by (masked ? kvLen : 0) + column
            NDArray key = used.logicalNot().toType(DataType.INT64, false).mul(kvLen).add(col);
            NDArray order = key.argSort(1, true).get(":, :" + longest); // [B, longest]
            int nkv = config.numKeyValueHeads, hd = config.headDim();
            NDArray idx = order.reshape(batch, 1, longest, 1).broadcast(new Shape(batch, nkv, longest, hd));
            for (int i = 0; i < sKeys.length; i++) {
                if (sKeys[i] == null) continue;
                NDIndex act = new NDIndex(":" + batch + ", :, :" + kvLen);
                NDArray k = tmpGet(tmp, sKeys[i], act).gather(idx, 2);
                NDArray v = tmpGet(tmp, sValues[i], act).gather(idx, 2);
                sKeys[i].set(new NDIndex(":" + batch + ", :, :" + longest), k);
                sValues[i].set(new NDIndex(":" + batch + ", :, :" + longest), v);
            }
            long[] len = new long[batch];
            for (int r = 0; r < batch; r++) len[r] = lengths[r];
            NDArray fresh = col.lt(tmp.create(len).reshape(batch, 1)); // [B, kvLen]: the first lengths[r] columns
            sMask.set(new NDIndex(":" + batch + ", :" + kvLen), fresh);
        }
        kvLen = longest;
    }

    /** Pool: new K/V storage of {@code newCap} columns for all slots, the active rows' used columns copied. */
    private void growPoolKv(int newCap) {
        allocKvKeepingUsed(newCap, sKeys, sValues, () -> sMask, ":" + batch);
    }

    /**
     * Reallocates K/V storage at {@code newCap} columns ({@link #allocKv}) and copies the used columns of the
     * rows selected by {@code rows} (an NDIndex row selector) from the old arrays; the old arrays are closed.
     * {@code k}/{@code v} are the arrays {@code allocKv} replaces, {@code mask} reads the current mask field.
     */
    private void allocKvKeepingUsed(int newCap, NDArray[] k, NDArray[] v,
            java.util.function.Supplier<NDArray> mask, String rows) {
        NDArray oldMask = mask.get();
        NDArray[] oldK = k.clone();
        NDArray[] oldV = v.clone();
        allocKv(newCap);
        if (kvLen > 0 && batch > 0) {
            NDIndex used = new NDIndex(rows + ", :, :" + kvLen);
            NDIndex usedMask = new NDIndex(rows + ", :" + kvLen);
            try (NDManager tmp = manager.newSubManager()) {
                mask.get().set(usedMask, tmpGet(tmp, oldMask, usedMask));
                for (int i = 0; i < k.length; i++) {
                    if (k[i] != null) {
                        k[i].set(used, tmpGet(tmp, oldK[i], used));
                        v[i].set(used, tmpGet(tmp, oldV[i], used));
                    }
                }
            }
        }
        oldMask.close();
        for (int i = 0; i < oldK.length; i++) {
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

    /** Bytes of all state arrays (K/V at their allocated capacity; a pool counts all its slots). */
    public long bytes() {
        if (pooled) {
            long b = bytesOf(sMask);
            for (int i = 0; i < conv.length; i++) {
                b += bytesOf(sConv[i]) + bytesOf(sSsm[i]) + bytesOf(sKeys[i]) + bytesOf(sValues[i]);
            }
            return b;
        }
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
        return copyRows(rows, false);
    }

    /**
     * {@code n} rows continuing row 0 of this single-row state, for a prefill that comes next (a shared prefix
     * forked into the records that continue it). The Mamba conv and SSM arrays are broadcast views of row 0, not
     * copies: a prefill reads them once and replaces them (a copy is 24 MB per row at h-350m, ~0.8 s for 27 rows
     * on the 2-core CPU). K/V and the key mask are copied (a prefill writes into them). Until a prefill has run,
     * the rows may only be read or copied: decode refuses them.
     */
    public ModelState forkForPrefill(int n) {
        checkOpen();
        if (batch != 1 || pooled) throw new IllegalStateException("forkForPrefill needs a single-row, non-pooled state");
        if (n < 1) throw new IllegalArgumentException("forkForPrefill of " + n + " rows");
        return copyRows(new int[n], true);
    }

    /** Rows {@code rows} of this state; conv/SSM shared as views of row 0 when {@code shareMamba} (a one-row state). */
    private ModelState copyRows(int[] rows, boolean shareMamba) {
        checkOpen();
        ModelState s = new ModelState(config, dtype, manager.getParentManager(), rows.length);
        try (NDManager tmp = manager.newSubManager()) {
            NDArray idx = tmp.create(Arrays.stream(rows).mapToLong(r -> r).toArray());
            for (int i = 0; i < conv.length; i++) {
                s.conv[i] = shareMamba ? broadcastRows(conv[i], rows.length, s.manager) : take(conv[i], idx, s.manager);
                s.ssm[i] = shareMamba ? broadcastRows(ssm[i], rows.length, s.manager) : take(ssm[i], idx, s.manager);
                s.keys[i] = take(keys[i], idx, s.manager);
                s.values[i] = take(values[i], idx, s.manager);
            }
            s.keyMask = take(keyMask, idx, s.manager);
        }
        for (int r = 0; r < rows.length; r++) s.lengths[r] = lengths[rows[r]];
        s.kvLen = kvLen;
        s.capacity = capacity;
        s.sharedMamba = shareMamba;
        return s;
    }

    /** {@code a} [1, ...] as a view [n, ...] of the same memory (null stays null), owned by {@code owner}. */
    private static NDArray broadcastRows(NDArray a, int n, NDManager owner) {
        if (a == null) return null;
        long[] dims = a.getShape().getShape().clone();
        dims[0] = n;
        NDArray v = a.broadcast(new Shape(dims));
        v.attach(owner);
        return v;
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
