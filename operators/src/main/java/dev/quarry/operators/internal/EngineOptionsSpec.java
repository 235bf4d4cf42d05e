package dev.quarry.operators.internal;

import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.EngineOptions;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A serializable copy of {@link EngineOptions} (which holds a {@link Path} and is not serializable), so the
 * options can travel in the job graph; {@link #toOptions(String)} rebuilds them on the TaskManager.
 */
public record EngineOptionsSpec(String modelDir, String device, String dtype, int maxPrefillTokens,
                                int maxActiveSequences, long stateBudgetBytes, int maxSequenceLength,
                                int queueCapacity, BatchingOptions.QueueFullPolicy queueFullPolicy,
                                Duration requestTimeout, boolean truncateInput) implements Serializable {

    public static EngineOptionsSpec of(EngineOptions o) {
        BatchingOptions b = o.batching();
        return new EngineOptionsSpec(o.modelDir().toString(), o.device(), o.dtype(), b.maxPrefillTokens(),
                b.maxActiveSequences(), b.stateBudgetBytes(), b.maxSequenceLength(), b.queueCapacity(),
                b.queueFullPolicy(), b.requestTimeout(), b.truncateInput());
    }

    /** The options, on {@code device} instead of the configured one when it is not null. */
    public EngineOptions toOptions(String deviceOverride) {
        BatchingOptions b = BatchingOptions.builder().maxPrefillTokens(maxPrefillTokens).maxActiveSequences(maxActiveSequences)
                .stateBudgetBytes(stateBudgetBytes).maxSequenceLength(maxSequenceLength).queueCapacity(queueCapacity)
                .queueFullPolicy(queueFullPolicy).requestTimeout(requestTimeout).truncateInput(truncateInput).build();
        return EngineOptions.builder().modelDir(Path.of(modelDir)).device(deviceOverride != null ? deviceOverride : device)
                .dtype(dtype).batching(b).build();
    }
}
