package dev.quarry.engine.internal.sched;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.internal.model.GraniteModel;
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
     * Teacher-forced scoring: row r feeds {@code ids[r]} after row r of {@code state} and returns per row the
     * sum over j of {@code log softmax(logits after ids[r][j])[targets[r][j]]}, the softmax over the first
     * {@code vocab} logits. The state moves on (callers score on forks they then drop). This default feeds
     * one token per decode step; a model may score all positions in one pass.
     */
    default double[] scoreTargets(NDManager step, int[][] ids, int[][] targets, BatchState state, int vocab) {
        int b = ids.length;
        int longest = 0;
        for (int[] r : ids) longest = Math.max(longest, r.length);
        double[] sums = new double[b];
        for (int j = 0; j < longest; j++) {
            int[] tok = new int[b];
            long[] tg = new long[b];
            for (int r = 0; r < b; r++) {
                tok[r] = j < ids[r].length ? ids[r][j] : ids[r][ids[r].length - 1]; // finished rows idle
                tg[r] = j < ids[r].length ? targets[r][j] : 0;
            }
            try (NDManager m = step.newSubManager()) {
                NDArray logits = decode(m, tok, state);
                NDArray logp = GraniteModel.logProbs(logits, vocab);
                float[] v = logp.gather(m.create(tg, new Shape(b, 1)), 1).toFloatArray();
                for (int r = 0; r < b; r++) if (j < ids[r].length) sums[r] += v[r];
            }
        }
        return sums;
    }

    /**
     * {@link #scoreTargets} of forks: fork i continues row {@code rows[i / forks]} of {@code state}, which is left
     * as it was. This default scores on copies of the rows; a model may read each row's state once for all its
     * forks instead.
     */
    default double[] scoreForks(NDManager step, BatchState state, int[] rows, int forks, int[][] ids, int[][] targets, int vocab) {
        int[] of = new int[ids.length];
        for (int i = 0; i < of.length; i++) of[i] = rows[i / forks];
        try (BatchState copies = state.select(of)) {
            return scoreTargets(step, ids, targets, copies, vocab);
        }
    }

    /**
     * Upper estimate of the transient bytes {@link #scoreForks} takes per fork of {@code forkTokens} tokens on a
     * row of {@code contextTokens}. This default matches its own scoring on copies: one row state each.
     */
    default long forkBytes(int forkTokens, int contextTokens) {
        return stateBytes(contextTokens + forkTokens);
    }

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
