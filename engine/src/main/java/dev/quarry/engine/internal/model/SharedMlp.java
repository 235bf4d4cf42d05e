package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;

/** Always-on gated MLP: [a | b] = x W_in^T, out = (silu(a) * b) W_out^T (spec §4.2). */
final class SharedMlp {
    /** input_linear^T: [H, 2S] contiguous (from the [2S, H] checkpoint tensor). */
    private final NDArray inT;
    /** output_linear^T: [S, H] contiguous (from [H, S]). */
    private final NDArray outT;
    private final int s;
    private final Bf16 bf;

    SharedMlp(NDArray inputLinear, NDArray outputLinear, Bf16 bf) {
        this.s = (int) outputLinear.getShape().get(1);
        this.bf = bf;
        this.inT = Ops.linearT(inputLinear, bf);
        this.outT = Ops.linearT(outputLinear, bf);
    }

    NDArray forward(NDArray x) {
        return Ops.linear(gated(Ops.linear(x, inT, bf), s), outT, bf);
    }

    /** silu(p[..., :w]) * p[..., w:]. */
    static NDArray gated(NDArray p, int w) {
        NDArray a = p.get("..., :" + w);
        NDArray b = p.get("..., " + w + ":");
        return silu(a).mul(b);
    }

    static NDArray silu(NDArray a) {
        return a.mul(a.getNDArrayInternal().sigmoid());
    }
}
