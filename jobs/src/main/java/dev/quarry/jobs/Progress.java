package dev.quarry.jobs;

import dev.quarry.connectors.ResultRecord;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Live counters of a job run in this JVM (the embedded MiniCluster), read by the CLI's progress bar.
 * Records replayed after a failure are counted again, so live figures are approximate; the final
 * summary is computed from the committed output instead.
 */
public final class Progress {
    private static final Map<String, Counters> RUNS = new ConcurrentHashMap<>();

    /** Counters of one run. */
    public static final class Counters {
        public final LongAdder rows = new LongAdder();
        public final LongAdder errors = new LongAdder();
        public final LongAdder promptTokens = new LongAdder();
        public final LongAdder generatedTokens = new LongAdder();
    }

    private Progress() {}

    public static Counters of(String runId) {
        return RUNS.computeIfAbsent(runId, k -> new Counters());
    }

    public static void forget(String runId) {
        RUNS.remove(runId);
    }

    /** A pass-through map that counts results into the run's counters. */
    public static MapFunction<ResultRecord, ResultRecord> counting(String runId) {
        return new Counting(runId);
    }

    private static final class Counting implements MapFunction<ResultRecord, ResultRecord> {
        private static final long serialVersionUID = 1L;
        private final String runId;

        Counting(String runId) {
            this.runId = runId;
        }

        @Override
        public ResultRecord map(ResultRecord r) {
            Counters c = of(runId);
            c.rows.increment();
            if (r.isError()) c.errors.increment();
            c.promptTokens.add(r.promptTokens);
            c.generatedTokens.add(r.generatedTokens);
            return r;
        }
    }
}
