package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A bias-free linear layer {@code y = x · Wᵀ}, held as the contiguous transpose {@code wT} [in, out] (fp32, or
 * bf16 with {@code bf}; built by {@link Ops#linearT}).
 *
 * <p>Few-row products on a multi-core CPU are split along the input dimension: {@code x · Wᵀ = Σ_p x_p · W_pᵀ}
 * as one batched matmul over {@code p} parts (a view {@code [p, in/p, out]} of the same weight memory, no copy)
 * and a sum over the parts. Torch runs the parts of a batched product on its intra-op threads, while a plain
 * product with one to a few rows is a single-threaded GEMV in libtorch's MKL, which reads the weight at about
 * half the machine's bandwidth. On the 2-core benchmark machine a 768 x 3072 fp32 product at one row takes
 * ~300 us split vs ~440 us plain, the tied 768 x 100352 lm_head ~6.7 ms vs ~11.9 ms (docs/benchmarks.md).
 * The split only changes the order of the fp32 summation. bf16 weights always take the plain product (their
 * batched product is slower than the plain one in this libtorch), as do GPU arrays and inputs of more than
 * {@link #SPLIT_MAX_ROWS} rows (a GEMM, already multi-threaded).
 */
final class Linear {
    /** Inputs with at most this many rows take the split product (measured faster up to 8 rows, 2 cores). */
    static final int SPLIT_MAX_ROWS = 8;
    /** At most this many parts (one per intra-op thread). */
    static final int MAX_PARTS = 8;

    /** W^T: [in, out] contiguous. */
    private final NDArray wT;
    /** The same memory as [parts, in/parts, out]; null when the product is never split. */
    private final NDArray wParts;
    private final long in;
    private final long out;
    private final int parts;
    private final Bf16 bf;

    /** @param wT [in, out] contiguous, owned by the model's manager (not copied) */
    Linear(NDArray wT, Bf16 bf) {
        this(wT, bf, wT.getDevice().isGpu() ? 1 : JniUtils.getNumThreads());
    }

    /** As above, split in up to {@code threads} parts (fp32 only; 1: never split). */
    Linear(NDArray wT, Bf16 bf, int threads) {
        this.wT = wT;
        this.bf = bf;
        Shape s = wT.getShape();
        if (s.dimension() != 2) throw new IllegalArgumentException("linear weight must be [in, out], got " + s);
        in = s.get(0);
        out = s.get(1);
        parts = bf == null ? parts(in, threads) : 1;
        wParts = parts > 1 ? wT.reshape(parts, in / parts, out) : null;
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

    /** x: [..., in] fp32 -> [..., out] fp32, attached to x's manager. */
    NDArray forward(NDArray x) {
        if (bf != null) return bf.matMul(x, wT);
        Shape s = x.getShape();
        long rows = s.size() / in;
        if (wParts == null || rows > SPLIT_MAX_ROWS) return x.matMul(wT);
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
