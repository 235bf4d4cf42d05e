package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A bias-free linear layer {@code y = x · Wᵀ}. fp32 weights are held as the contiguous transpose {@code wT}
 * [in, out]; bf16 weights in the checkpoint's [out, in] layout (see {@link #prepare}).
 *
 * <p>Few-row fp32 products on a multi-core CPU are split along the input dimension: {@code x · Wᵀ = Σ_p x_p ·
 * W_pᵀ} as one batched matmul over {@code p} parts (a view {@code [p, in/p, out]} of the same weight memory, no
 * copy) and a sum over the parts. Torch runs the parts of a batched product on its intra-op threads, while a
 * plain product with one to a few rows is a single-threaded GEMV in libtorch's MKL, which reads the weight at
 * about half the machine's bandwidth. On the 2-core benchmark machine a 768 x 3072 fp32 product at one row takes
 * ~300 us split vs ~440 us plain, the tied 768 x 100352 lm_head ~6 ms vs ~12 ms; a 32-row decode step is ~10 %
 * faster (docs/benchmarks.md). The split
 * only changes the order of the fp32 summation. bf16 weights always take {@code torch.linear} (their batched
 * product is slower than the plain one in this libtorch), as do GPU arrays and inputs of more than {@link
 * #SPLIT_MAX_ROWS} rows (prefill-sized GEMMs, which MKL threads well).
 */
final class Linear {
    private static final NDIndex ALL = new NDIndex("...");

    /**
     * Inputs with at most this many rows take the split product: on the 2-core machine it is faster for every
     * h-350m linear up to 32 rows (MKL's small-M GEMM does not use both cores well either: 768 x 3376 at 32 rows
     * 1692 vs 1798 us, 2048 x 768 1051 vs 1245 us, lm_head 49.6 vs 65.1 ms), mixed at 64 rows. Re-measured with
     * MKL's AVX-512 kernels ({@code MklCpuDispatch}), steps alternating in one process: a 32-row decode step still
     * faster split (median 291 vs 303 ms, 345 vs 368 ms; 16 rows no better), one row 74 vs 92 ms.
     */
    static final int SPLIT_MAX_ROWS = 32;
    /** At most this many parts (one per intra-op thread). */
    static final int MAX_PARTS = 8;

    /** fp32: W^T [in, out]; bf16: W [out, in]; contiguous either way. */
    private final NDArray weight;
    /** fp32 W^T as [parts, in/parts, out] (the same memory); null when the product is never split. */
    private final NDArray wParts;
    private final long in;
    private final long out;
    private final int parts;
    private final Bf16 bf;

    /**
     * A linear from its checkpoint weight [out, in] (closed), with an RMSNorm weight {@code inScale} [in] (or
     * null, not closed) and a multiplier {@code outScale} folded in; bf16 when {@code bf} is set.
     */
    static Linear of(NDArray w, NDArray inScale, float outScale, Bf16 bf) {
        return new Linear(prepare(w, inScale, outScale, bf), bf);
    }

    /** One linear per expert of a stacked checkpoint weight [E, out, in] (closed); as {@link #of}. */
    static Linear[] stack(NDArray w, NDArray inScale, float outScale, Bf16 bf) {
        NDArray all = prepare(w, inScale, outScale, bf);
        Linear[] l = new Linear[(int) all.getShape().get(0)];
        for (int i = 0; i < l.length; i++) l[i] = new Linear(all.get(i), bf);
        return l;
    }

    /**
     * A linear weight [..., out, in] prepared for a Linear: {@code outScale · W · diag(inScale)} where
     * {@code inScale} [in] (or null) is an RMSNorm weight applied to the linear's input and {@code outScale} a
     * multiplier applied to its output ({@code norm(x)·w·Wᵀ·r == norm(x)·(r·W·diag(w))ᵀ}, so a step skips those
     * element-wise ops). Folded in fp32 on a fresh copy (no extra full-size temporary); then held as the
     * contiguous transpose [..., in, out] in fp32 ({@code bf} null: torch's batch-1 GEMV is ~1.7x faster with a
     * contiguous right operand on CPU), or rounded to bf16 in the checkpoint's [..., out, in] layout ({@code
     * torch.linear} on bf16 is ~20 % faster than a matmul with the transpose here, docs/benchmarks.md). Closes
     * {@code w}, not {@code inScale}; the temporaries die here (a leftover view would keep the source alive).
     */
    static NDArray prepare(NDArray w, NDArray inScale, float outScale, Bf16 bf) {
        NDManager parent = w.getManager();
        boolean transpose = bf == null;
        try (NDManager tmp = parent.newSubManager()) {
            w.attach(tmp);
            long[] dims = w.getShape().getShape().clone();
            int nd = dims.length;
            long in = dims[nd - 1];
            NDArray f;
            if (transpose) {
                dims[nd - 1] = dims[nd - 2];
                dims[nd - 2] = in;
                int[] axes = new int[nd];
                for (int i = 0; i < nd; i++) axes[i] = i;
                axes[nd - 1] = nd - 2;
                axes[nd - 2] = nd - 1;
                f = w.transpose(axes).flatten().reshape(new Shape(dims));
            } else {
                f = inScale != null || outScale != 1f ? w.duplicate() : w;
            }
            if (inScale != null) {
                long[] cs = new long[nd];
                java.util.Arrays.fill(cs, 1);
                cs[transpose ? nd - 2 : nd - 1] = in; // scales the input dimension, wherever it is
                NDArray col = inScale.reshape(new Shape(cs));
                col.attach(tmp);
                f.muli(col);
            }
            if (outScale != 1f) f.muli(outScale);
            NDArray out;
            if (bf == null) {
                out = f;
            } else {
                out = bf.zeros(f.getShape(), tmp);
                out.set(ALL, f);
            }
            out.attach(parent);
            return out;
        }
    }

    /** @param weight prepared by {@link #prepare} with the same {@code bf}, owned by the model (not copied) */
    Linear(NDArray weight, Bf16 bf) {
        this(weight, bf, weight.getDevice().isGpu() ? 1 : JniUtils.getNumThreads());
    }

    /** As above, split in up to {@code threads} parts (fp32 only; 1: never split). */
    Linear(NDArray weight, Bf16 bf, int threads) {
        this.weight = weight;
        this.bf = bf;
        Shape s = weight.getShape();
        if (s.dimension() != 2) throw new IllegalArgumentException("linear weight must be 2-d, got " + s);
        in = bf == null ? s.get(0) : s.get(1);
        out = bf == null ? s.get(1) : s.get(0);
        parts = bf == null ? parts(in, threads) : 1;
        wParts = parts > 1 ? weight.reshape(parts, in / parts, out) : null;
    }

    /** The number of parts for an input dimension {@code in} on {@code threads} intra-op threads (1: no split). */
    static int parts(long in, int threads) {
        for (int p = Math.min(threads, MAX_PARTS); p > 1; p--) {
            if (in % p == 0) return p;
        }
        return 1;
    }

    /** How many parts a few-row product is split into (1: never). */
    int parts() {
        return parts;
    }

    /**
     * Rows {@code idx} [n] (int64) of W, i.e. the input weights of output units {@code idx}: [n, in] fp32,
     * contiguous, attached to {@code m}. The tied embedding is looked up this way.
     */
    NDArray weightRows(NDArray idx, NDManager m) {
        NDArray r;
        if (bf == null) {
            NDArray cols = weight.get(new NDIndex(":, {}", idx)); // [in, n]
            cols.attach(m);
            // a contiguous copy: a transposed view would hand its column-major strides to every element-wise
            // result downstream, and torch's matmul then cannot fold [B, T, H] into one GEMM: it runs B separate
            // products, each reading the whole weight (32 GEMVs per linear at 32 decode rows)
            r = cols.transpose().flatten().reshape(idx.getShape().get(0), in);
        } else {
            NDArray rows = weight.get(new NDIndex("{}", idx)); // [n, in] bf16
            rows.attach(m);
            r = rows.toType(DataType.FLOAT32, false);
        }
        r.attach(m);
        return r;
    }

    /** x: [..., in] fp32 -> [..., out] fp32, attached to x's manager. */
    NDArray forward(NDArray x) {
        if (bf != null) return bf.linear(x, weight);
        Shape s = x.getShape();
        long rows = s.size() / in;
        if (wParts == null || rows > SPLIT_MAX_ROWS) return x.matMul(weight);
        // [rows, in] -> [parts, rows, in/parts]: for one row a plain reshape, else a strided view
        NDArray xp = rows == 1
                ? x.reshape(parts, 1, in / parts)
                : x.reshape(rows, parts, in / parts).transpose(1, 0, 2);
        NDArray prod = xp.matMul(wParts); // [parts, rows, out]
        if (rows == 1 && s.dimension() == 3) return prod.sum(new int[] {0}, true); // [1, 1, out]: decode's shape
        NDArray y = prod.sum(new int[] {0}); // [rows, out]
        long[] dims = s.getShape().clone();
        dims[dims.length - 1] = out;
        return y.reshape(new Shape(dims));
    }
}
