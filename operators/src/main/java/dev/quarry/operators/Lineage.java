package dev.quarry.operators;

import java.io.Serializable;

/**
 * Where a result came from: the record id, the task name ({@code summarize}, {@code classify}, ...), the
 * model name and the hash of its weights ({@link dev.quarry.engine.ModelInfo#weightsHash()}), and the
 * decoding parameters ({@link dev.quarry.engine.task.Task#describeDecoding()}).
 */
public record Lineage(String recordId, String task, String modelName, String weightsHash, String decoding)
        implements Serializable {}
