package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.model.GraniteConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Mamba-2 mixer (spec §5): chunked SSD prefill over a left-padded batch that continues each row's conv
 * and SSM state, and a single-step recurrent decode. Pads never touch the state: x, B and dt are zero
 * there, and the conv of a row's first real token sees that row's cached inputs (a per-row shift).
 */
final class MambaMixer {
    /**
     * Prefill splits the sequence into SSD chunks of at most this many tokens, below a checkpoint's
     * {@code mamba_chunk_size} (256 in Granite 4.0): the chunked form is exact for any chunk length (only the fp32
     * summation order moves), and its intra-chunk work and {@code [B, nh, c, Q, Q]} arrays grow with Q while the
     * state passing between chunks is a few state-sized ops per chunk. A 512-token h-350m prefill on the 2-core CPU
     * (docs/benchmarks.md): f32 ~3.4-4.4 s at Q=256, ~2.8-3.0 s at Q=64; bf16 ~1.9-2.3 s vs ~1.4-1.8 s.
     */
    static final int PREFILL_MAX_CHUNK = 64;

    private final int layer;
    private final int dInner, convDim, nh, hd, ds, ng, k, chunk;
    private final float eps;
    private final double dtMin, dtMax;
    /** in_proj^T: [H, 2*d_inner + 2*ng*ds + nh] contiguous (from [proj, H]). */
    private final Linear in;
    /** conv1d weight per tap k: K arrays of [conv_dim] (from [conv_dim, 1, K]). */
    private final NDArray[] convTap;
    /** conv1d weight as [K, conv_dim] (decode). */
    private final NDArray convKC;
    /** conv1d bias: [conv_dim] (zeros when the checkpoint has none). */
    private final NDArray convBias;
    /** dt_bias: [nh], fp32. */
    private final NDArray dtBias;
    /** A = -exp(A_log): [nh], fp32. */
    private final NDArray a;
    /** D: [nh], fp32, and the same as [nh, 1] (prepared once; no per-step reshape of weights). */
    private final NDArray d, d2;
    /** A as [nh, 1, 1]. */
    private final NDArray a3;
    /** out_proj^T · diag(gated-norm weight) · residual_multiplier: [d_inner, H] contiguous (from [H, d_inner]). */
    private final Linear out;
    /** eps as an fp32 scalar array. */
    private final NDArray epsArr;

    /**
     * @param inScale input RMSNorm weight, folded into in_proj (not closed)
     * @param outScale residual multiplier, folded into out_proj together with the gated-norm weight
     */
    MambaMixer(GraniteConfig c, int layer, NDManager m, WeightSource w, DataType dtype, Bf16 bf, NDArray inScale, float outScale) {
        this.layer = layer;
        dInner = c.mambaDInner();
        convDim = c.mambaConvDim();
        nh = c.mambaNHeads;
        hd = c.mambaDHead;
        ds = c.mambaDState;
        ng = c.mambaNGroups;
        k = c.mambaDConv;
        chunk = c.mambaChunkSize;
        eps = (float) c.rmsNormEps;
        dtMin = c.timeStepLimitMin;
        dtMax = c.timeStepLimitMax;
        String p = "model.layers." + layer + ".mamba.";
        in = Linear.of(w.get(m, p + "in_proj.weight", false), inScale, 1f, bf);
        NDArray cw = w.get(m, p + "conv1d.weight", false); // [conv_dim, 1, K]
        convKC = cw.reshape(convDim, k).transpose().flatten().reshape(k, convDim); // [K, conv_dim] contiguous
        cw.close();
        convTap = new NDArray[k];
        for (int i = 0; i < k; i++) convTap[i] = convKC.get(i);
        convBias = c.mambaConvBias ? w.get(m, p + "conv1d.bias", false) : m.zeros(new Shape(convDim), dtype);
        dtBias = w.get(m, p + "dt_bias", true);
        NDArray aLog = w.get(m, p + "A_log", true);
        a = aLog.exp().neg();
        aLog.close();
        d = w.get(m, p + "D", true);
        d2 = d.reshape(nh, 1);
        a3 = a.reshape(nh, 1, 1);
        NDArray normWeight = w.get(m, p + "norm.weight", false);
        out = Linear.of(w.get(m, p + "out_proj.weight", false), normWeight, outScale, bf);
        normWeight.close();
        epsArr = m.create(eps);
        if (c.mambaProjBias) {
            throw new IllegalArgumentException("mamba_proj_bias=true is not supported");
        }
    }

    /**
     * Prefill.
     *
     * @param u [B, T, H] normalized input (model dtype), rows left-padded
     * @param mask3 [B, T, 1] boolean, true at real tokens
     * @param convIdx [B, T+K-1, conv_dim] int64 gather index that moves each row's cached K-1 inputs right
     *     before its first real token
     * @param st state (conv, ssm of this layer are replaced)
     * @return [B, T, H]
     */
    NDArray prefill(NDArray u, NDArray mask3, NDArray convIdx, ModelState st, StepScope scope) {
        return mix(u, mask3, convIdx, st, scope, 0);
    }

    /**
     * Fork scoring: rows {@code r*forks .. r*forks+forks-1} of {@code u} (left-padded like a prefill, at most one
     * chunk long) each continue row r of {@code st}, which is only read: every fork starts from the same conv
     * history and SSM state, the state's contribution to a fork's output is computed for all forks of a row in
     * one matmul ({@code C [forks*T, ds] · H [ds, heads]} per group), and no fork's final state is formed.
     * Equals prefilling each fork on its own copy of the row's state.
     *
     * @return [R*forks, T, H]
     */
    NDArray scoreForks(NDArray u, NDArray mask3, NDArray convIdx, ModelState st, int forks) {
        return mix(u, mask3, convIdx, st, null, forks);
    }

    private NDArray mix(NDArray u, NDArray mask3, NDArray convIdx, ModelState st, StepScope scope, int forks) {
        NDManager sm = u.getManager();
        long b = u.getShape().get(0);
        int t = (int) u.getShape().get(1);
        NDArray zeroU = sm.zeros(new Shape(1), u.getDataType());
        u = Ops.where(mask3, u, zeroU);
        NDArray p = in.forward(u);
        NDArray z = p.get("..., :" + dInner);
        NDArray xbc = p.get("..., " + dInner + ":" + (dInner + convDim));
        NDArray dtRaw = p.get("..., " + (dInner + convDim) + ":");
        // three stages, each freeing its temporaries when it ends (see Stage): the layer's peak is the largest
        // stage, not their sum (an h-350m layer at 512 tokens: ~190 MB held at once before)
        NDArray conv;
        try (Stage s = new Stage(sm, st.conv[layer], xbc)) {
            conv = s.keep(convolve(xbc, mask3, convIdx, zeroU, st, scope, forks, s));
        }
        NDArray y;
        try (Stage s = new Stage(sm, conv, dtRaw, st.ssm[layer])) {
            y = s.keep(ssd(conv, dtRaw, mask3, st, scope, forks, b, t, s));
        }
        try (Stage s = new Stage(sm, y, z)) {
            return s.keep(gatedOut(y, z));
        }
    }

    /** The causal depthwise conv over [cached K-1 inputs | row tokens], shifted per row: [B, T, conv_dim]. */
    private NDArray convolve(NDArray xbc, NDArray mask3, NDArray convIdx, NDArray zeroU, ModelState st, StepScope scope,
            int forks, Stage s) {
        int t = (int) xbc.getShape().get(1);
        NDArray hist = st.conv[layer].get(":, 1:, :");
        if (forks > 0) hist = hist.repeat(0, forks); // each row's history once per fork: [R*forks, K-1, C]
        NDArray full = hist.concat(xbc, 1); // [B, K-1+T, C]
        NDArray shifted = full.gather(convIdx, 1);
        if (forks == 0) scope.replace(st.conv, layer, s.keep(shifted.get(":, " + (t - 1) + ":, :").duplicate()));
        NDArray acc = shifted.get(":, 0:" + t + ", :").mul(convTap[0]);
        for (int i = 1; i < k; i++) {
            acc = acc.add(shifted.get(":, " + i + ":" + (i + t) + ", :").mul(convTap[i]));
        }
        NDArray conv = SharedMlp.silu(acc.add(convBias));
        return Ops.where(mask3, conv, zeroU);
    }

    /**
     * The chunked SSD over the conv output: y [B, T, d_inner] before the gated norm; the row's final SSM state
     * replaces the layer's (not with forks, which only read it).
     */
    private NDArray ssd(NDArray conv, NDArray dtRaw, NDArray mask3, ModelState st, StepScope scope, int forks, long b,
            int t, Stage s) {
        NDManager sm = s.manager();
        NDArray xf = conv.get("..., :" + dInner).toType(DataType.FLOAT32, false);
        // B and C stay per group ([.., ng, ds]): every head of a group shares them, so C·Bᵀ, the chunk states and
        // the inter-chunk output are computed once per group as larger matmuls, not once per head
        NDArray bm = conv.get("..., " + dInner + ":" + (dInner + ng * ds)).toType(DataType.FLOAT32, false).reshape(b, t, ng, ds);
        NDArray cm = conv.get("..., " + (dInner + ng * ds) + ":").toType(DataType.FLOAT32, false).reshape(b, t, ng, ds);
        NDArray dt = softplus(dtRaw.toType(DataType.FLOAT32, false).add(dtBias));
        dt = clampDt(dt);
        dt = Ops.where(mask3, dt, sm.zeros(new Shape(1)));

        // chunks of at most PREFILL_MAX_CHUNK tokens, each only as long as needed to cover T (the chunked SSD is
        // exact for any chunk length; a 64-token prompt with chunk_size 256 would otherwise build 16x larger
        // [.., Q, Q] arrays); pad T up to nc * q (zeros: no effect on the state)
        int cq = forks > 0 ? chunk : Math.min(chunk, PREFILL_MAX_CHUNK); // forks: one chunk of any length <= chunk
        int nc = (t + cq - 1) / cq;
        int q = (t + nc - 1) / nc;
        int tp = nc * q;
        int hpg = nh / ng;
        NDArray x4 = xf.reshape(b, t, nh, hd);
        if (tp > t) {
            x4 = x4.concat(sm.zeros(new Shape(b, tp - t, nh, hd)), 1);
            bm = bm.concat(sm.zeros(new Shape(b, tp - t, ng, ds)), 1);
            cm = cm.concat(sm.zeros(new Shape(b, tp - t, ng, ds)), 1);
            dt = dt.concat(sm.zeros(new Shape(b, tp - t, nh)), 1);
        }
        NDArray xh = x4.reshape(b, nc, q, nh, hd).transpose(0, 3, 1, 2, 4); // [B, nh, c, Q, hd]
        NDArray bg = bm.reshape(b, nc, q, ng, ds).transpose(0, 1, 3, 2, 4); // [B, c, ng, Q, ds]
        NDArray cg = cm.reshape(b, nc, q, ng, ds).transpose(0, 1, 3, 2, 4); // [B, c, ng, Q, ds]
        NDArray dth = dt.reshape(b, nc, q, nh).transpose(0, 3, 1, 2); // [B, nh, c, Q]
        NDArray aa = dth.mul(a3); // [B, nh, c, Q]
        NDArray xd = xh.mul(dth.expandDims(4)); // [B, nh, c, Q, hd]
        NDArray cumA = aa.cumSum(3);

        // L[l, s] = exp(sum_{i=s+1..l} a_i) for s <= l, else 0 (summed without differences of cumsums); the
        // [B, nh, c, Q, Q] arrays are the largest of a prefill: updated in place where possible, freed once used
        NDArray ar = sm.arange(q);
        NDArray rowI = ar.reshape(q, 1);
        NDArray colS = ar.reshape(1, q);
        NDArray strict = rowI.gt(colS).toType(DataType.FLOAT32, false); // i > s
        NDArray lowerEq = rowI.gte(colS).toType(DataType.FLOAT32, false);
        NDArray masked = aa.expandDims(4).mul(strict); // [B, nh, c, Q(i), Q(s)]: a_i where i > s
        NDArray seg = masked.cumSum(3);
        masked.close();
        NDArray lmat = seg.exp();
        seg.close();
        lmat.muli(lowerEq);
        NDArray cb = cg.matMul(bg.transpose(0, 1, 2, 4, 3)); // [B, c, ng, Q(l), Q(s)]
        lmat.reshape(b, ng, hpg, nc, q, q).muli(cb.transpose(0, 2, 1, 3, 4).expandDims(2)); // (C·Bᵀ) ∘ L per head
        cb.close();
        NDArray ydiag = lmat.matMul(xd); // [B, nh, c, Q, hd]
        lmat.close();
        if (forks > 0) {
            if (nc != 1) throw new IllegalArgumentException("forks of " + t + " tokens exceed one chunk (" + chunk + ")");
            long r = b / forks;
            NDArray expA = cumA.exp().reshape(b, ng, hpg, 1, q).transpose(0, 3, 1, 4, 2).expandDims(5); // [B, 1, ng, Q, hpg, 1]
            // C of all forks of a row against the row's state: [R, ng, forks*Q, ds] · [R, ng, ds, hpg*hd]
            NDArray cr = cg.reshape(r, forks, ng, q, ds).transpose(0, 2, 1, 3, 4).reshape(r, ng, forks * q, ds);
            NDArray h0 = st.ssm[layer].reshape(r, ng, (long) hpg * hd, ds).transpose(0, 1, 3, 2);
            NDArray yoff = cr.matMul(h0).reshape(r, ng, forks, q, (long) hpg * hd).transpose(0, 2, 1, 3, 4)
                    .reshape(b, 1, ng, q, hpg, hd).mul(expA).transpose(0, 1, 3, 2, 4, 5).reshape(b, 1, q, nh, hd);
            NDArray y = yoff.add(ydiag.transpose(0, 2, 3, 1, 4)).add(x4.mul(d2).reshape(b, 1, q, nh, hd));
            y = y.reshape(b, tp, dInner);
            return tp > t ? y.get(":, :" + t + ", :") : y;
        }
        NDArray last = cumA.get("..., -1:"); // [B, nh, c, 1]
        NDArray decay = last.sub(cumA).exp(); // [B, nh, c, Q]
        // chunk states per group: [hpg*hd, Q] · [Q, ds]
        NDArray xg = xd.mul(decay.expandDims(4)).reshape(b, ng, hpg, nc, q, hd).transpose(0, 3, 1, 2, 5, 4)
                .reshape(b, nc, ng, (long) hpg * hd, q);
        NDArray sc = xg.matMul(bg).reshape(b, nc, nh, hd, ds); // [B, c, nh, hd, ds]
        NDArray chunkDecay = last.exp(); // [B, nh, c, 1]
        NDArray h = st.ssm[layer];
        NDList hs = new NDList(nc);
        for (int c = 0; c < nc; c++) {
            hs.add(h);
            NDArray dc = chunkDecay.get(":, :, " + c + ", :").expandDims(3); // [B, nh, 1, 1]
            h = h.mul(dc).addi(sc.get(":, " + c));
        }
        // output from the state entering each chunk, per group: C [Q, ds] · H_inᵀ [ds, hpg*hd]
        NDArray hin = (nc == 1 ? hs.get(0).expandDims(1) : NDArrays.stack(hs, 1))
                .reshape(b, nc, ng, (long) hpg * hd, ds); // [B, c, ng, hpg*hd, ds]
        NDArray expA = cumA.exp().reshape(b, ng, hpg, nc, q).transpose(0, 3, 1, 4, 2).expandDims(5); // [B, c, ng, Q, hpg, 1]
        NDArray yoff = cg.matMul(hin.transpose(0, 1, 2, 4, 3)).reshape(b, nc, ng, q, hpg, hd).mul(expA)
                .transpose(0, 1, 3, 2, 4, 5).reshape(b, nc, q, nh, hd); // [B, c, Q, nh, hd]
        NDArray y = yoff.add(ydiag.transpose(0, 2, 3, 1, 4)).add(x4.mul(d2).reshape(b, nc, q, nh, hd));
        y = y.reshape(b, tp, dInner);
        if (tp > t) y = y.get(":, :" + t + ", :");
        scope.replace(st.ssm, layer, s.keep(h == st.ssm[layer] ? h.duplicate() : h));
        return y;
    }

    /**
     * One recurrent step (the conv and SSM arrays of {@code st} are updated in place).
     *
     * @param u [B, 1, H]
     * @return [B, 1, H]
     */
    NDArray decode(NDArray u, ModelState st, DecoderLayer.Step step) {
        // conv window, conv, softplus, s = s * exp(dt*A) + (x*dt) ⊗ B in place, y = C · s + D x and the gated norm:
        // one native call (MambaDecodeKernel); the conv and SSM arrays are updated in place
        NDArray g = step.mambaKernel.mix(in.forward(u), st.conv[layer], convKC, convBias, dtBias, a, d, st.ssm[layer],
                eps, dtMin, dtMax, ng);
        return out.forward(g);
    }

    /** Gated RMSNorm in fp32 (gate before the norm), then out_proj (which carries the norm weight). */
    private NDArray gatedOut(NDArray y, NDArray z) {
        NDArray g = y.mul(SharedMlp.silu(z.toType(DataType.FLOAT32, false)));
        return out.forward(RmsNorm.normalize(g, epsArr));
    }

    /** torch's softplus (beta 1, threshold 20: x itself above 20), one native op. */
    static NDArray softplus(NDArray x) {
        return x.getNDArrayInternal().softPlus();
    }

    private NDArray clampDt(NDArray dt) {
        if (dtMin > 0 || !Double.isInfinite(dtMax)) {
            return dt.clip(dtMin, Double.isInfinite(dtMax) ? Float.MAX_VALUE : dtMax);
        }
        return dt;
    }

    /** Replaced state arrays: attached to the state at the end of a step, old ones closed afterwards. */
    static final class StepScope {
        final List<NDArray> retired = new ArrayList<>();
        final List<NDArray> adopted = new ArrayList<>();

        void replace(NDArray[] slots, int i, NDArray fresh) {
            if (slots[i] != fresh) {
                retired.add(slots[i]);
                slots[i] = fresh;
                adopted.add(fresh);
            }
        }
    }
}
