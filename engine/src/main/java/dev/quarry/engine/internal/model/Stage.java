package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * A stretch of a multi-token forward whose temporaries are freed when it ends, not when its layer does.
 *
 * <p>DJL gives every result the manager of its first operand, so everything a layer computes lives until the layer's
 * manager closes, and a prefill's peak is the sum of all of one layer's temporaries: ~190 MB for an h-350m Mamba
 * layer at 512 tokens (the conv's shifted copies, the SSD's chunk arrays, the gated norm), growing with the step's
 * tokens; ~59 MB with the stages. glibc keeps that peak resident after the step. A stage attaches its inputs to its own sub-manager for its
 * duration ({@link NDArray#tempAttach}: they go back to their managers when it closes, nested stages included), so
 * what they produce dies with the stage; a result that must outlive it is moved to the parent with {@link #keep}.
 * Arrays created directly on a manager inside a stage ({@code zeros}, {@code arange}) should come from
 * {@link #manager()}.
 */
final class Stage implements AutoCloseable {
    private final NDManager parent;
    private final NDManager manager;

    /** A stage under {@code parent} with {@code inputs} (nulls skipped) attached to it until {@link #close}. */
    Stage(NDManager parent, NDArray... inputs) {
        this.parent = parent;
        this.manager = parent.newSubManager();
        for (NDArray a : inputs) {
            if (a != null) a.tempAttach(manager);
        }
    }

    /** The stage's manager: what is created on it dies with the stage. */
    NDManager manager() {
        return manager;
    }

    /** Moves {@code a}, created in this stage (not one of its inputs), to the parent manager; returns it. */
    NDArray keep(NDArray a) {
        a.attach(parent);
        return a;
    }

    /** Frees everything created in the stage except what was kept, and returns the inputs to their managers. */
    @Override
    public void close() {
        manager.close();
    }
}
