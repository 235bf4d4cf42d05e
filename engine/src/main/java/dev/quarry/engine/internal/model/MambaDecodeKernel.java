package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The Mamba-2 decode recurrence of one layer in one native call: a parameterless TorchScript module (resource
 * {@code mamba_decode.pt}, written by engine/src/test/python/make_decode_kernels.py) run through DJL's PyTorch
 * engine on the step's own arrays.
 *
 * <p>Why not plain NDArray ops: DJL has no fused multiply-add, so {@code s = s·exp(dt·A) + (x·dt) ⊗ B} took an
 * in-place multiply, a scratch array for the outer product (a broadcast copy and a multiply) and an in-place add,
 * four passes over the fp32 state and two over the scratch; at 32 decode rows an h-350m layer's state is 25 MB, and
 * the update was ~40 % of the decode step. The module runs torch's {@code mul_} and {@code addcmul_} (two passes, no
 * scratch) and the ~20 small calls around them at once. The arithmetic is the spec's (§5, fp32 throughout);
 * {@code MambaDecodeKernelTest} checks it against the same step written as NDArray ops.
 */
final class MambaDecodeKernel implements AutoCloseable {
    private final PtSymbolBlock module;

    /** Loads the module into {@code modelManager} (PyTorch engine only). */
    MambaDecodeKernel(NDManager modelManager) {
        if (!(modelManager instanceof PtNDManager pt)) {
            throw new IllegalStateException("the Mamba decode kernel needs the PyTorch engine, got " + modelManager.getEngine().getEngineName());
        }
        try (InputStream in = MambaDecodeKernel.class.getResourceAsStream("mamba_decode.pt")) {
            if (in == null) throw new IllegalStateException("resource mamba_decode.pt is missing from the engine jar");
            module = JniUtils.loadModule(pt, in, true, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the Mamba decode module", e);
        }
    }

    /**
     * One recurrent step of a Mamba layer for B rows.
     *
     * @param s [B, nh, hd, ds] fp32, contiguous: updated in place to {@code s·exp(dt·A) + (x·dt) ⊗ B}
     * @param dt [B, nh] fp32, after softplus and the time-step clamp
     * @param a A = -exp(A_log): [nh] fp32
     * @param x [B, nh, hd] fp32 (the conv output's x part)
     * @param b [B, ng·ds] fp32
     * @param c [B, ng·ds] fp32
     * @param d D: [nh] fp32
     * @param groups ng (head h reads group h / (nh / ng))
     * @return y = C · s_new + D·x as [B, 1, nh·hd] fp32, attached to {@code s}'s manager
     */
    NDArray step(NDArray s, NDArray dt, NDArray a, NDArray x, NDArray b, NDArray c, NDArray d, int groups) {
        if (s.getDataType() != DataType.FLOAT32) throw new IllegalArgumentException("SSM state must be fp32, got " + s.getDataType());
        IValue[] in = {
            IValue.from((PtNDArray) s), IValue.from((PtNDArray) dt), IValue.from((PtNDArray) a), IValue.from((PtNDArray) x),
            IValue.from((PtNDArray) b), IValue.from((PtNDArray) c), IValue.from((PtNDArray) d), IValue.from((long) groups)
        };
        IValue out = null;
        try {
            out = module.forward(in);
            return out.toTensor((PtNDManager) s.getManager());
        } finally {
            if (out != null) out.close();
            for (IValue v : in) v.close();
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
