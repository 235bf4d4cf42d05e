package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.model.GraniteConfig;

/**
 * One block: h += r * mixer(norm(h)); h += r * (moe(norm2(h)) + shared_mlp(norm2(h))) (spec §4).
 *
 * <p>The two RMSNorm weights are folded into the linears that read the normalized input (mixer input
 * projection; shared MLP input, router and expert inputs), and r into the linears that write the residual
 * branch (mixer output projection, shared MLP and expert outputs), so a step runs only the weightless
 * normalization and two plain adds here.
 */
final class DecoderLayer {
    private final MambaMixer mamba;
    private final Attention attention;
    private final MoE moe;
    private final SharedMlp shared;
    /** rms_norm_eps as an fp32 scalar array (owned by the model). */
    private final NDArray eps;

    DecoderLayer(GraniteConfig c, int layer, NDManager m, WeightSource w, DataType dtype, Bf16 bf, NDArray eps) {
        String p = "model.layers." + layer + ".";
        this.eps = eps;
        float residual = (float) c.residualMultiplier;
        NDArray inW = w.get(m, p + "input_layernorm.weight", false);
        NDArray postW = w.get(m, p + "post_attention_layernorm.weight", false);
        try {
            if (c.layerType(layer) == GraniteConfig.LayerType.MAMBA) {
                mamba = new MambaMixer(c, layer, m, w, dtype, bf, inW, residual);
                attention = null;
            } else {
                mamba = null;
                attention = new Attention(c, layer, m, w, dtype, bf, inW, residual);
            }
            moe = c.hasMoe() ? new MoE(c, layer, m, w, dtype, bf, postW, residual) : null;
            shared = new SharedMlp(w.get(m, p + "shared_mlp.input_linear.weight", false),
                    w.get(m, p + "shared_mlp.output_linear.weight", false), bf, postW, residual);
        } finally {
            inW.close();
            postW.close();
        }
    }

    /**
     * Prefill (decode = false) or one decode step (decode = true; T = 1) over fp32 h [B, T, H]; with
     * {@code step.forks} set, fork scoring over a read-only {@code st} (see {@link MambaMixer#scoreForks}).
     */
    NDArray forward(NDArray h, boolean decode, Step step, ModelState st) {
        NDArray u = RmsNorm.normalize(h, eps);
        NDArray mixed;
        if (mamba != null) {
            mixed = decode ? mamba.decode(u, st, step)
                    : step.forks > 0 ? mamba.scoreForks(u, step.mask3, step.convIdx, st, step.forks)
                    : mamba.prefill(u, step.mask3, step.convIdx, st, step.scope);
        } else if (decode) {
            mixed = attention.forward(u, step.attn, st);
        } else { // multi-token: the scores' temporaries die with the stage (the Mamba mixer stages itself)
            try (Stage s = new Stage(u.getManager(), u)) {
                mixed = s.keep(step.forks > 0 ? attention.scoreForks(u, step.attn, st, step.forks) : attention.forward(u, step.attn, st));
            }
        }
        h = h.add(mixed);
        NDArray v = RmsNorm.normalize(h, eps);
        NDArray f;
        if (decode) {
            f = mlp(v);
        } else {
            try (Stage s = new Stage(v.getManager(), v)) {
                f = s.keep(mlp(v));
            }
        }
        return h.add(f);
    }

    private NDArray mlp(NDArray v) {
        NDArray f = shared.forward(v);
        return moe != null ? f.add(moe.forward(v)) : f;
    }

    /** Per-step inputs shared by all layers. */
    static final class Step {
        NDArray mask3;
        NDArray convIdx;
        Attention.StepContext attn;
        /** Decode: the Mamba mixer's step (null without Mamba layers). */
        MambaDecodeKernel mambaKernel;
        /** Fork scoring: forks per state row (rows of h are grouped by state row); 0 otherwise. */
        int forks;
        final MambaMixer.StepScope scope = new MambaMixer.StepScope();
    }
}
