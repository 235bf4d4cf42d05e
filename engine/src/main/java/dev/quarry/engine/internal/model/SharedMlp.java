package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;

/** Always-on gated MLP: [a | b] = x W_in^T, out = (silu(a) * b) W_out^T (spec §4.2). */
final class SharedMlp {
    /** input_linear^T: [H, 2S] (from the [2S, H] checkpoint tensor). */
    private final Linear in;
    /** output_linear^T: [S, H] (from [H, S]). */
    private final Linear out;
    private final int s;

    /**
     * @param inScale RMSNorm weight of the input, folded into input_linear (not closed)
     * @param outScale residual multiplier, folded into output_linear
     */
    SharedMlp(NDArray inputLinear, NDArray outputLinear, Bf16 bf, NDArray inScale, float outScale) {
        this.s = (int) outputLinear.getShape().get(1);
        this.in = Linear.of(inputLinear, inScale, 1f, bf);
        this.out = Linear.of(outputLinear, null, outScale, bf);
    }

    NDArray forward(NDArray x) {
        return out.forward(gated(in.forward(x), s));
    }

    /** silu(p[..., :w]) * p[..., w:] (one split). */
    static NDArray gated(NDArray p, int w) {
        ai.djl.ndarray.NDList ab = p.split(new long[] {w}, p.getShape().dimension() - 1);
        NDArray a = ab.get(0);
        return silu(a).mul(ab.get(1));
    }

    static NDArray silu(NDArray a) {
        return a.mul(a.getNDArrayInternal().sigmoid());
    }
}
