package dev.quarry.engine;

/**
 * Point-in-time counters (monotonic) and gauges of an engine.
 *
 * @param decodeRows rows (sequences) advanced by decode steps: every generated token but a request's first, which
 *     its prefill yields
 * @param decodeNanos wall time spent in decode steps (the model step, sampling and bookkeeping), so {@code
 *     decodeRows / decodeNanos} is the decode throughput of the batches that ran, without prefill or idle time
 */
public record EngineStats(
        long promptTokens,
        long generatedTokens,
        long completedRequests,
        long failedRequests,
        int queueDepth,
        int activeSequences,
        int maxActiveSequences,
        long stateBytes,
        long stepCount,
        long decodeRows,
        long decodeNanos) {

    /** Average batch occupancy since start, in sequences per decode step (0 when no step ran). */
    public double occupancy() {
        return stepCount == 0 ? 0 : (double) generatedTokens / stepCount;
    }
}
