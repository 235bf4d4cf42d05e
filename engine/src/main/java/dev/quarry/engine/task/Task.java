package dev.quarry.engine.task;

/**
 * What to do with a record. Implementations are immutable and validated when built: a bad task
 * definition (no labels, unsupported schema keyword, template naming a missing field) fails in
 * {@code build()}, never per record.
 */
public sealed interface Task permits SummarizeTask, ClassifyTask, ExtractTask, PromptTask {
    /** {@code summarize}, {@code classify}, {@code extract} or {@code prompt}. */
    String name();

    /** Decoding parameters, for lineage. */
    String describeDecoding();
}
