package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/** Small NDArray helpers missing from DJL. */
final class Ops {
    private static final NDIndex ALL = new NDIndex("...");

    private Ops() {}

    /** where(cond, x, fill) with cond and fill broadcast to x's shape (DJL's where wants equal shapes). */
    static NDArray where(NDArray cond, NDArray x, NDArray fill) {
        Shape s = x.getShape();
        NDArray c = cond.getShape().equals(s) ? cond : cond.broadcast(s);
        NDArray f = fill.getShape().equals(s) ? fill : fill.broadcast(s);
        return NDArrays.where(c, x, f);
    }

    /**
     * A linear weight [..., out, in] prepared for {@link Linear}: {@code outScale · W · diag(inScale)} where
     * {@code inScale} [in] (or null) is an RMSNorm weight applied to the linear's input and {@code outScale} a
     * multiplier applied to its output ({@code norm(x)·w·Wᵀ·r == norm(x)·(r·W·diag(w))ᵀ}, so a step skips those
     * element-wise ops). Folded in fp32 on a fresh copy (no extra full-size temporary); then held as the
     * contiguous transpose [..., in, out] in fp32 ({@code bf} null: torch's batch-1 GEMV is ~1.7x faster with a
     * contiguous right operand on CPU), or rounded to bf16 in the checkpoint's [..., out, in] layout ({@code
     * torch.linear} on bf16 is ~20 % faster than a matmul with the transpose here, docs/benchmarks.md). Closes
     * {@code w}, not {@code inScale}; the temporaries die here (a leftover view would keep the source alive).
     */
    static NDArray linearWeight(NDArray w, NDArray inScale, float outScale, Bf16 bf) {
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
}
