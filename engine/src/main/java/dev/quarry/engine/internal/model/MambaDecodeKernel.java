package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * A Mamba-2 mixer's decode step in one native call: a parameterless TorchScript module (resource
 * {@code mamba_decode.pt}, written by engine/src/test/python/make_decode_kernels.py) run through DJL's PyTorch
 * engine on the step's own arrays.
 *
 * <p>Why not plain NDArray ops: DJL has no fused multiply-add, so {@code s = s·exp(dt·A) + (x·dt) ⊗ B} took an
 * in-place multiply, a scratch array for the outer product (a broadcast copy and a multiply) and an in-place add,
 * four passes over the fp32 state and two over the scratch; at 32 decode rows an h-350m layer's state is 25 MB, and
 * the update was ~40 % of the decode step. The module runs torch's {@code mul_} and {@code addcmul_} (two passes, no
 * scratch), and with them the conv window shift, the conv, softplus and the gated RMSNorm: ~35 DJL calls per layer
 * and step become one, which a batch-1 step (mostly such calls) feels too. The arithmetic is the spec's (§5, fp32
 * throughout); {@code MambaDecodeKernelTest} checks it against the same step written as NDArray ops.
 */
final class MambaDecodeKernel implements AutoCloseable {
    private final ScriptModule module;

    /** Loads the module into {@code modelManager} (PyTorch engine only). */
    MambaDecodeKernel(NDManager modelManager) {
        module = new ScriptModule(modelManager, "mamba_decode.pt");
    }

    /**
     * One decode step of a Mamba mixer for B rows, from in_proj's output to out_proj's input.
     *
     * @param proj [B, 1, 2·d_inner + 2·ng·ds + nh] fp32: in_proj's output (z | xBC | dt)
     * @param conv [B, K, conv_dim] fp32, the last K conv inputs (oldest first): shifted in place
     * @param convW conv1d weight [K, conv_dim]
     * @param convB conv1d bias [conv_dim]
     * @param dtBias [nh] fp32
     * @param a A = -exp(A_log): [nh] fp32
     * @param d D: [nh] fp32
     * @param s [B, nh, hd, ds] fp32, contiguous: updated in place to {@code s·exp(dt·A) + (x·dt) ⊗ B}
     * @param eps the gated norm's epsilon
     * @param dtMin lower time-step clamp (with {@code dtMax}: 0 and infinity mean none)
     * @param dtMax upper time-step clamp
     * @param groups ng (head h reads group h / (nh / ng))
     * @return the gated RMSNorm of {@code y = C · s + D·x} (without its weight) as [B, 1, d_inner] fp32, attached to
     *     {@code s}'s manager
     */
    NDArray mix(NDArray proj, NDArray conv, NDArray convW, NDArray convB, NDArray dtBias, NDArray a, NDArray d, NDArray s,
            double eps, double dtMin, double dtMax, int groups) {
        if (s.getDataType() != DataType.FLOAT32) throw new IllegalArgumentException("SSM state must be fp32, got " + s.getDataType());
        return module.call(s.getManager(), proj, conv, convW, convB, dtBias, a, d, s, eps, dtMin, dtMax, groups);
    }

    @Override
    public void close() {
        module.close();
    }
}
