package dev.quarry.engine;

import java.util.Objects;

/** Generation from raw prompt token ids. {@code id} is carried to the result. */
public record GenerationRequest(String id, int[] promptIds, SamplingParams sampling, boolean returnLogits) {
    public GenerationRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(promptIds, "promptIds");
        Objects.requireNonNull(sampling, "sampling");
    }
}
