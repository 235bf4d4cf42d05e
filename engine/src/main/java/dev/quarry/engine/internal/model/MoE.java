package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.model.GraniteConfig;

/**
 * Routed mixture of experts (spec §4.2): fp32 router, top-k, softmax over the k chosen logits. Dispatch
 * sorts the (token, slot) pairs by expert, runs each expert once on its contiguous block, and restores
 * the order with the inverse permutation.
 */
final class MoE {
    private final int e, topK, inter;
    private final DataType dtype;
    /** router.layer^T: [H, E], fp32. */
    private final Linear router;
    /** Per expert input_linear[e]: H -> 2I (slices of one prepared copy of [E, 2I, H]). */
    private final Linear[] in;
    /** Per expert output_linear[e]: I -> H (slices of one prepared copy of [E, H, I]). */
    private final Linear[] out;

    /**
     * @param inScale post-attention RMSNorm weight, folded into the router and the expert inputs (not closed)
     * @param outScale residual multiplier, folded into the expert outputs
     */
    MoE(GraniteConfig c, int layer, NDManager m, WeightSource w, DataType dtype, Bf16 bf, NDArray inScale, float outScale) {
        this.dtype = dtype;
        e = c.numLocalExperts;
        topK = c.numExpertsPerTok;
        inter = c.intermediateSize;
        String p = "model.layers." + layer + ".block_sparse_moe.";
        router = Linear.of(w.get(m, p + "router.layer.weight", false), inScale, 1f, null);
        in = Linear.stack(w.get(m, p + "input_linear.weight", false), inScale, 1f, bf);
        out = Linear.stack(w.get(m, p + "output_linear.weight", false), null, outScale, bf);
    }

    /** x: [B, T, H] -> [B, T, H]. */
    NDArray forward(NDArray x) {
        NDManager sm = x.getManager();
        Shape shape = x.getShape();
        long h = shape.get(2);
        NDArray flat = x.reshape(-1, h);
        long n = flat.getShape().get(0);
        NDArray logits = router.forward(flat).toType(DataType.FLOAT32, false);
        NDList top = logits.topK(topK, -1, true, true);
        NDArray gates = top.get(0).softmax(-1).toType(dtype, false); // [N, k]
        NDArray experts = top.get(1).toType(DataType.INT64, false).reshape(-1); // [N*k]
        NDArray order = experts.argSort(0, true);
        long[] counts = experts.expandDims(0).eq(sm.arange(0, e, 1, DataType.INT64).expandDims(1))
                .sum(new int[] {1}).toType(DataType.INT64, false).toLongArray();
        NDArray pairToken = sm.arange(0, (int) n, 1, DataType.INT64).repeat(0, topK).gather(order, 0);
        NDArray xs = flat.gather(pairToken.expandDims(1).broadcast(new Shape(n * topK, h)), 0);
        NDList blocks = new NDList();
        long off = 0;
        for (int i = 0; i < e; i++) {
            long cnt = counts[i];
            if (cnt == 0) continue;
            NDArray blk = xs.get(off + ":" + (off + cnt));
            blocks.add(out[i].forward(SharedMlp.gated(in[i].forward(blk), inter)));
            off += cnt;
        }
        NDArray ys = blocks.size() == 1 ? blocks.get(0) : ai.djl.ndarray.NDArrays.concat(blocks, 0);
        NDArray inv = order.argSort(0, true);
        NDArray back = ys.gather(inv.expandDims(1).broadcast(new Shape(n * topK, h)), 0).reshape(n, topK, h);
        return back.mul(gates.expandDims(2)).sum(new int[] {1}).reshape(shape);
    }
}
