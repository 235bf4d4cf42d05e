package dev.quarry.engine.internal.sched;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * What the scheduler needs from a model: ragged batched prefill continuing per-row state, one-token
 * decode over all rows, and state forking/stacking. {@code GraniteStepModel} adapts the Granite model;
 * tests may plug in a toy model to exercise scheduling alone.
 */
public interface StepModel extends AutoCloseable {
    /** Width of the logits rows. */
    int vocabSize();

    /** Fresh state for {@code batch} sequences. */
    BatchState emptyState(int batch);

    /** Prefill: row r of {@code ids} continues row r of {@code state}; fp32 logits [B, V] at each row's last token. */
    NDArray prefill(NDManager step, int[][] ids, BatchState state);

    /** One token per row; fp32 logits [B, V]. */
    NDArray decode(NDManager step, int[] ids, BatchState state);

    /**
     * An empty slot pool (0 rows) with room for {@code rowCapacity} rows before it grows (doubling, at most
     * to {@code maxRows}); rows join with
     * {@link BatchState#appendRows} and leave with {@link BatchState#removeRow}, and steps update the
     * slots in place.
     */
    BatchState newPool(int rowCapacity, int maxRows);

    /** Rows stacked in order. */
    BatchState concat(List<BatchState> parts);

    /** Upper estimate of one sequence's state bytes once it holds {@code tokens} tokens. */
    long stateBytes(int tokens);

    @Override
    void close();
}
