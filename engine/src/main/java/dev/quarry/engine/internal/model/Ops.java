package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.Shape;

/** Small NDArray helpers missing from DJL. */
final class Ops {
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
     * right operand: torch's batch-1 GEMV is ~1.7x faster that way on CPU). Closes {@code w}.
     */
    static NDArray transposedCopy(NDArray w) {
        Shape s = w.getShape();
        NDArray t = w.transpose().flatten().reshape(s.get(1), s.get(0));
        w.close();
        return t;
    }

    /** Per-slice transposed copy of a stacked [E, out, in] weight: contiguous [E, in, out]. Closes {@code w}. */
    static NDArray transposedCopy3(NDArray w) {
        Shape s = w.getShape();
        NDArray t = w.transpose(0, 2, 1).flatten().reshape(s.get(0), s.get(2), s.get(1));
        w.close();
        return t;
    }
}
