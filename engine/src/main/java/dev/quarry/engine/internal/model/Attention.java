package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.model.GraniteConfig;

/**
 * Grouped-query attention with attention_multiplier scaling, optional RoPE (positions per row), and a
 * K/V cache whose columns carry a per-row key mask (spec §4.1). Masked scores get a finite fill so
 * all-pad query rows stay finite.
 */
final class Attention {
    static final float MASK_FILL = -1e30f;

    private final int layer, nq, nkv, hd;
    private final float scale;
    private final DataType dtype;
    /** [q_proj; k_proj; v_proj]^T fused once at load, contiguous: [H, (nq + 2*nkv)*hd], one matMul per step. */
    private final Linear qkv;
    /** o_proj^T: [nq*hd, H] contiguous. */
    private final Linear o;

    /**
     * @param inScale input RMSNorm weight, folded into q/k/v (not closed)
     * @param outScale residual multiplier, folded into o_proj; attention_multiplier is folded into q (RoPE is
     *     linear in q, so scaling before it equals scaling the scores)
     */
    Attention(GraniteConfig c, int layer, NDManager m, WeightSource w, DataType dtype, Bf16 bf, NDArray inScale, float outScale) {
        this.layer = layer;
        this.dtype = dtype;
        nq = c.numAttentionHeads;
        nkv = c.numKeyValueHeads;
        hd = c.headDim();
        scale = (float) c.attentionMultiplier;
        if (c.attentionBias) throw new IllegalArgumentException("attention_bias=true is not supported");
        String p = "model.layers." + layer + ".self_attn.";
        NDArray q = w.get(m, p + "q_proj.weight", false); // [nq*hd, H]
        NDArray k = w.get(m, p + "k_proj.weight", false); // [nkv*hd, H]
        NDArray v = w.get(m, p + "v_proj.weight", false); // [nkv*hd, H]
        NDArray qs = q.mul(scale);
        NDArray qk = qs.concat(k, 0);
        qkv = Linear.of(qk.concat(v, 0), inScale, 1f, bf);
        for (NDArray x : new NDArray[] {q, qs, qk, k, v}) x.close();
        o = Linear.of(w.get(m, p + "o_proj.weight", false), null, outScale, bf);
    }

    /**
     * @param u [B, T, H]
     * @param ctx step context: RoPE tables, cache column range and the allowed-key mask
     * @return [B, T, H]
     */
    NDArray forward(NDArray u, StepContext ctx, ModelState st) {
        long b = u.getShape().get(0);
        int t = (int) u.getShape().get(1);
        NDArray[] qkv = project(u, ctx);
        NDArray q = qkv[0], k = qkv[1], v = qkv[2];
        NDIndex cols = new NDIndex(":, :, " + ctx.start + ":" + (ctx.start + t) + ", :");
        st.keys[layer].set(cols, k);
        st.values[layer].set(cols, v);
        int total = ctx.start + t;
        NDArray kk = st.keys[layer].get(":, :, :" + total + ", :");
        NDArray vv = st.values[layer].get(":, :, :" + total + ", :");
        int rep = nq / nkv;
        NDArray scores = q.reshape(b, nkv, (long) rep * t, hd).matMul(kk.transpose(0, 1, 3, 2))
                .toType(DataType.FLOAT32, false).reshape(b, nkv, rep, t, total); // scale is folded into q
        scores = Ops.where(ctx.allowed, scores, ctx.fill);
        NDArray probs = scores.softmax(-1).toType(dtype, false).reshape(b, nkv, (long) rep * t, total);
        NDArray o = probs.matMul(vv).reshape(b, nq, t, hd).transpose(0, 2, 1, 3).reshape(b, t, (long) nq * hd);
        return this.o.forward(o);
    }

    /**
     * Fork scoring: rows {@code r*forks ..} of {@code u} continue row r of {@code st}, whose cache is only read.
     * A fork's queries attend to its row's cached keys (one matmul per row for all its forks) and to its own
     * tokens (causal); {@code ctx.allowed} is [B, 1, 1, T, S+T] over [cached | own] keys.
     *
     * @return [R*forks, T, H]
     */
    NDArray scoreForks(NDArray u, StepContext ctx, ModelState st, int forks) {
        long b = u.getShape().get(0);
        long r = b / forks;
        int t = (int) u.getShape().get(1);
        NDArray[] qkv = project(u, ctx);
        NDArray q = qkv[0], k = qkv[1], v = qkv[2];
        int rep = nq / nkv;
        long rows = (long) rep * t; // query rows per kv head and fork
        int s = st.kvLen;
        NDArray qg = q.reshape(b, nkv, rows, hd);
        NDArray own = qg.matMul(k.transpose(0, 1, 3, 2)).toType(DataType.FLOAT32, false).reshape(b, nkv, rep, t, t);
        NDArray scores = own;
        NDArray qr = null;
        if (s > 0) {
            // every fork of a row against the row's cache: [R, nkv, forks*rows, hd] · [R, nkv, hd, S]
            qr = qg.reshape(r, forks, nkv, rows, hd).transpose(0, 2, 1, 3, 4).reshape(r, nkv, forks * rows, hd);
            NDArray kk = st.keys[layer].get(":, :, :" + s + ", :");
            NDArray cached = qr.matMul(kk.transpose(0, 1, 3, 2)).toType(DataType.FLOAT32, false)
                    .reshape(r, nkv, forks, rows, s).transpose(0, 2, 1, 3, 4).reshape(b, nkv, rep, t, s);
            scores = cached.concat(own, 4);
        }
        scores = Ops.where(ctx.allowed, scores, ctx.fill);
        NDArray probs = scores.softmax(-1).toType(dtype, false); // [B, nkv, rep, T, S+T]
        NDArray o = probs.get("..., " + s + ":").reshape(b, nkv, rows, t).matMul(v); // [B, nkv, rows, hd]
        if (s > 0) {
            NDArray pc = probs.get("..., :" + s).reshape(r, forks, nkv, rows, s).transpose(0, 2, 1, 3, 4)
                    .reshape(r, nkv, forks * rows, s);
            NDArray vv = st.values[layer].get(":, :, :" + s + ", :");
            o = o.add(pc.matMul(vv).reshape(r, nkv, forks, rows, hd).transpose(0, 2, 1, 3, 4).reshape(b, nkv, rows, hd));
        }
        o = o.reshape(b, nq, t, hd).transpose(0, 2, 1, 3).reshape(b, t, (long) nq * hd);
        return this.o.forward(o);
    }

    /** q [B, nq, T, hd], k and v [B, nkv, T, hd] of u [B, T, H]; RoPE applied to q and k when configured. */
    private NDArray[] project(NDArray u, StepContext ctx) {
        long b = u.getShape().get(0);
        int t = (int) u.getShape().get(1);
        int qw = nq * hd, kw = nkv * hd;
        ai.djl.ndarray.NDList p = qkv.forward(u).split(new long[] {qw, qw + kw}, 2);
        NDArray q = p.get(0).reshape(b, t, nq, hd).transpose(0, 2, 1, 3);
        NDArray k = p.get(1).reshape(b, t, nkv, hd).transpose(0, 2, 1, 3);
        NDArray v = p.get(2).reshape(b, t, nkv, hd).transpose(0, 2, 1, 3);
        if (ctx.cos != null) {
            q = rope(q, ctx);
            k = rope(k, ctx);
        }
        return new NDArray[] {q, k, v};
    }

    private static NDArray rope(NDArray x, StepContext ctx) {
        int half = (int) x.getShape().get(3) / 2;
        NDArray rot = x.get("..., " + half + ":").neg().concat(x.get("..., :" + half), 3);
        return x.mul(ctx.cos).add(rot.mul(ctx.sin));
    }

    /** Per-step tensors shared by all attention layers. */
    static final class StepContext {
        /** [B, 1, T, hd] in the model dtype, or null without RoPE. */
        NDArray cos, sin;
        /** [B, 1, 1, T, S] boolean. */
        NDArray allowed;
        /** Scalar fp32 fill for masked scores. */
        NDArray fill;
        /** First cache column written by this step. */
        int start;
    }
}
