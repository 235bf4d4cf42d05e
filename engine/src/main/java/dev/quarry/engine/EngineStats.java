package dev.quarry.engine;

/** Point-in-time counters (monotonic) and gauges of an engine. */
public record EngineStats(
        long promptTokens,
        long generatedTokens,
        long completedRequests,
        long failedRequests,
        int queueDepth,
        int activeSequences,
        int maxActiveSequences,
        long stateBytes,
        long stepCount) {

    /** Average batch occupancy since start, in sequences per decode step (0 when no step ran). */
    public double occupancy() {
        return stepCount == 0 ? 0 : (double) generatedTokens / stepCount;
    }
}
