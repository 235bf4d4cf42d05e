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
}
