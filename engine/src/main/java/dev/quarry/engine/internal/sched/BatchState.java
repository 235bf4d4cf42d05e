package dev.quarry.engine.internal.sched;

/** Per-row model state of a batch of sequences (native memory: close it). */
public interface BatchState extends AutoCloseable {
    int batchSize();

    long bytes();

    /** A copy of those rows, in that order; a row may repeat (forking). */
    BatchState select(int[] rows);

    /**
     * {@code n} rows continuing row 0 of this single-row state, to be prefilled before anything else (a cached
     * prefix forked into the records that continue it). By default a copy ({@link #select}); an implementation
     * may share what the prefill only reads.
     */
    default BatchState forkForPrefill(int n) {
        return select(new int[n]);
    }

    /**
     * Pools only ({@link StepModel#newPool}): copies every row of {@code src} into the next free slots
     * (after the current rows, in order); {@code src} is unchanged.
     */
    void appendRows(BatchState src);

    /** Pools only: removes row {@code row}; the last row moves into its slot (rows stay compact). */
    void removeRow(int row);

    @Override
    void close();
}
