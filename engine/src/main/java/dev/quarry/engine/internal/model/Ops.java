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
     * A linear weight [out, in] as a contiguous [in, out] copy (x · W^T becomes x · Wt with a contiguous
     * right operand: torch's batch-1 GEMV is ~1.7x faster that way on CPU). Closes {@code w}; the temporaries
     * die here (a leftover view would keep the source's storage alive).
     */
    static NDArray transposedCopy(NDArray w) {
        return transposed(w, null, 1f, null, 0, 1);
    }

    /** A linear weight [out, in] as its contiguous transpose [in, out], in bf16 when {@code bf} is set. Closes {@code w}. */
    static NDArray linearT(NDArray w, Bf16 bf) {
        return transposed(w, null, 1f, bf, 0, 1);
    }

    /**
     * {@code outScale · diag(inScale) · Wᵀ} as a contiguous [in, out] array: {@code inScale} [in] (or null) is an
     * RMSNorm weight applied to the linear's input, {@code outScale} a multiplier applied to its output
     * ({@code norm(x)·w·Wᵀ·r == norm(x)·(r·diag(w)·Wᵀ)}, so a step skips those element-wise ops). Folded in fp32,
     * in place on the transposed copy (no extra full-size temporary), then rounded to bf16 when {@code bf} is
     * set. Closes {@code w}, not {@code inScale}.
     */
    static NDArray linearT(NDArray w, NDArray inScale, float outScale, Bf16 bf) {
        return transposed(w, inScale, outScale, bf, 0, 1);
    }

    /** Stacked [E, out, in] -> [E, in, out] with scales folded in, in bf16 when {@code bf} is set. Closes {@code w}. */
    static NDArray linearT3(NDArray w, NDArray inScale, float outScale, Bf16 bf) {
        return transposed(w, inScale, outScale, bf, 1, 2);
    }

    private static NDArray transposed(NDArray w, NDArray inScale, float outScale, Bf16 bf, int a, int b) {
        NDManager parent = w.getManager();
        try (NDManager tmp = parent.newSubManager()) {
            w.attach(tmp);
            long[] dims = w.getShape().getShape().clone();
            long d = dims[a];
            dims[a] = dims[b];
            dims[b] = d;
            Shape s = new Shape(dims);
            int[] axes = new int[dims.length];
            for (int i = 0; i < axes.length; i++) axes[i] = i;
            axes[a] = b;
            axes[b] = a;
            NDArray f = w.transpose(axes).flatten().reshape(s);
            if (inScale != null) {
                NDArray col = inScale.reshape(dims[a], 1); // [in, 1]: row i of the transposed copy times inScale[i]
                col.attach(tmp);
                f.muli(col);
            }
            if (outScale != 1f) f.muli(outScale);
            NDArray out;
            if (bf == null) {
                out = f;
            } else {
                out = bf.zeros(s, tmp);
                out.set(ALL, f);
            }
            out.attach(parent);
            return out;
        }
    }
}
