package dev.quarry.engine.internal.sched;

/** Per-row model state of a batch of sequences (native memory: close it). */
public interface BatchState extends AutoCloseable {
    int batchSize();

    long bytes();

    /** A copy of those rows, in that order; a row may repeat (forking). */
    BatchState select(int[] rows);

    @Override
    void close();
}
