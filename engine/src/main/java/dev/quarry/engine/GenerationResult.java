package dev.quarry.engine;

/**
 * Result of a {@link GenerationRequest}. {@code logitsLast} is the full fp32 logits row that chose the
 * last returned token (null unless requested). {@code error} is non-null when the request failed.
 */
public record GenerationResult(
        String id,
        int[] ids,
        String text,
        FinishReason finishReason,
        int promptTokens,
        float[] logitsLast,
        EngineError error) {

    public static GenerationResult failed(String id, EngineError error) {
        return new GenerationResult(id, new int[0], "", null, 0, null, error);
    }
}
