package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * bfloat16 arrays on DJL 0.35 without the calls that abort the JVM.
 *
 * <p>DJL 0.35's PyTorch JNI turns a DJL {@link DataType} into a torch scalar type with a switch that only knows
 * float32..complex64; for {@code BFLOAT16} it runs a bare {@code throw;} and the process dies with "terminate
 * called without an active exception". Every call that passes bf16 as a <em>target</em> dtype therefore aborts:
 * {@code NDManager.zeros/ones/create(..., BFLOAT16)}, {@code NDArray.toType(BFLOAT16)} (reproduction in
 * docs/model.md). Operations on an <em>existing</em> bf16 tensor pass no dtype and work: matMul, slicing,
 * transpose, broadcast, duplicate, {@code set(NDIndex, f32 array)} (torch's copy_ casts), and
 * {@code toType(FLOAT32)}. DJL reports such arrays as {@link DataType#UNKNOWN} (its reverse map has no bf16
 * either), so they must never reach code that converts by {@code getDataType()} (toString, toArray).
 *
 * <p>So the first bf16 tensor comes from a tiny TorchScript module (resource {@code bf16seed.pt}, one bf16
 * parameter of shape [1], written by engine/src/test/python/make_bf16_seed.py) and every other bf16 array is
 * derived from it: a weight is {@code seed.broadcast(shape).duplicate()} filled by {@code set} from its fp32
 * values; an activation is cast the same way into a scratch buffer reused within one step.
 *
 * <p>Used autocast-style: linear weights (and the tied embedding / lm_head) are stored in bf16 and every linear
 * runs as a bf16 x bf16 matmul (fp32 accumulation inside torch) whose result is widened to fp32 at once;
 * everything else (residual stream, norms, SSM, softmax, logits) stays fp32 as the spec requires.
 */
final class Bf16 {
    private static final NDIndex ALL = new NDIndex("...");
    /** Scratch casts up to this many elements reuse one buffer per shape within a step. */
    private static final long SCRATCH_MAX = 1L << 22;

    /** [1] bf16 zero, owned by the model's manager. */
    private final NDArray seed;
    private NDManager stepManager;
    private final Map<Shape, NDArray> scratch = new HashMap<>();

    Bf16(NDManager modelManager) {
        try (ScriptModule module = new ScriptModule(modelManager, "bf16seed.pt")) {
            seed = module.parameters().get(0);
            seed.attach(modelManager);
        }
        if (seed.getShape().size() != 1) throw new IllegalStateException("bf16 seed has shape " + seed.getShape());
    }

    /** A new zero bf16 array of {@code shape}, attached to {@code m}. */
    NDArray zeros(Shape shape, NDManager m) {
        NDArray view = seed.broadcast(shape);
        NDArray out = view.duplicate();
        view.close();
        out.attach(m);
        return out;
    }

    /** Starts a step: scratch buffers live in {@code m} until {@link #endStep}. */
    void beginStep(NDManager m) {
        stepManager = m;
        scratch.clear();
    }

    void endStep() {
        stepManager = null;
        scratch.clear(); // the buffers die with the step manager
    }

    /**
     * {@code x · Wᵀ} for fp32 {@code x} [.., in] and bf16 {@code w} [out, in]: x is rounded to bf16, the product
     * is computed in bf16 ({@code torch.linear}) and widened to fp32. The result is attached to x's manager.
     */
    NDArray linear(NDArray x, NDArray w) {
        Shape s = x.getShape();
        NDArray buf = null;
        boolean fresh = stepManager == null || s.size() > SCRATCH_MAX;
        if (!fresh) {
            buf = scratch.get(s);
            if (buf == null) {
                buf = zeros(s, stepManager);
                scratch.put(s, buf);
            }
        } else {
            buf = zeros(s, x.getManager());
        }
        buf.set(ALL, x);
        NDArray yb = buf.getNDArrayInternal().linear(buf, w, null).singletonOrThrow();
        NDArray y = yb.toType(DataType.FLOAT32, false);
        yb.close();
        if (fresh) buf.close();
        y.attach(x.getManager());
        return y;
    }
}
