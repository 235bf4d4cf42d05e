package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** RMSNorm: statistics in fp32, cast back to the input dtype, then times the weight (spec §4). */
final class RmsNorm {
    /** weight: [H], model dtype. */
    private final NDArray weight;
    private final float eps;

    RmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = (float) eps;
    }

    NDArray forward(NDArray x) {
        return normalize(x, eps).mul(weight);
    }

    /** x / sqrt(mean(x^2) + eps) over the last axis in fp32, cast back to x's dtype (no weight). */
    static NDArray normalize(NDArray x, float eps) {
        DataType dt = x.getDataType();
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray inv = xf.square().mean(LAST, true).add(eps).sqrt();
        return xf.div(inv).toType(dt, false);
    }

    /**
     * {@link #normalize(NDArray, float)} of an fp32 {@code x} with eps as a prepared fp32 scalar array (a float
     * argument costs DJL one extra native call to create the scalar).
     */
    static NDArray normalize(NDArray x, NDArray eps) {
        return x.div(x.square().mean(LAST, true).add(eps).sqrt());
    }

    private static final int[] LAST = {-1};
}
