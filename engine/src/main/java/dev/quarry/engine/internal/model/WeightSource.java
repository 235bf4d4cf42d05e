package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Supplies named checkpoint tensors (HF names) as NDArrays in the model dtype, created in {@code manager}. */
@FunctionalInterface
public interface WeightSource {
    /**
     * @param manager where the array must live
     * @param name HF tensor name, e.g. {@code model.layers.0.mamba.in_proj.weight}
     * @param fp32 true when the tensor must be kept in fp32 regardless of the model dtype
     */
    NDArray get(NDManager manager, String name, boolean fp32);
}
