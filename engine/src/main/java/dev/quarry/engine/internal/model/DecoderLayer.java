package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.model.GraniteConfig;

/** One block: h += r * mixer(norm(h)); h += r * (moe(norm2(h)) + shared_mlp(norm2(h))) (spec §4). */
final class DecoderLayer {
    private final RmsNorm inputNorm;
    private final RmsNorm postNorm;
    private final MambaMixer mamba;
    private final Attention attention;
    private final MoE moe;
    private final SharedMlp shared;
    private final float residual;

    DecoderLayer(GraniteConfig c, int layer, NDManager m, WeightSource w, DataType dtype, Bf16 bf) {
        String p = "model.layers." + layer + ".";
        inputNorm = new RmsNorm(w.get(m, p + "input_layernorm.weight", false), c.rmsNormEps);
        postNorm = new RmsNorm(w.get(m, p + "post_attention_layernorm.weight", false), c.rmsNormEps);
        if (c.layerType(layer) == GraniteConfig.LayerType.MAMBA) {
            mamba = new MambaMixer(c, layer, m, w, dtype, bf);
            attention = null;
        } else {
            mamba = null;
            attention = new Attention(c, layer, m, w, dtype, bf);
        }
        moe = c.hasMoe() ? new MoE(c, layer, m, w, dtype, bf) : null;
        shared = new SharedMlp(w.get(m, p + "shared_mlp.input_linear.weight", false),
                w.get(m, p + "shared_mlp.output_linear.weight", false), bf);
        residual = (float) c.residualMultiplier;
    }

    /** Prefill (decode = false) or one decode step (decode = true; T = 1) over h [B, T, H]. */
    NDArray forward(NDArray h, boolean decode, Step step, ModelState st) {
        NDArray u = inputNorm.forward(h);
        NDArray mixed;
        if (mamba != null) {
            mixed = decode ? mamba.decode(u, st, step.scope) : mamba.prefill(u, step.mask3, step.convIdx, st, step.scope);
        } else {
            mixed = attention.forward(u, step.attn, st);
        }
        h = h.add(mixed.mul(residual));
        NDArray v = postNorm.forward(h);
        NDArray f = shared.forward(v);
        if (moe != null) f = f.add(moe.forward(v));
        return h.add(f.mul(residual));
    }

    /** Per-step inputs shared by all layers. */
    static final class Step {
        NDArray mask3;
        NDArray convIdx;
        Attention.StepContext attn;
        final MambaMixer.StepScope scope = new MambaMixer.StepScope();
    }
}
