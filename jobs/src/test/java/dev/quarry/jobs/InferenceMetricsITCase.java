package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.testing.FlinkTestCluster;
import dev.quarry.engine.ErrorKind;
import dev.quarry.operators.QuarryMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The inference step's metrics are registered under their public names and count what happened. */
@Timeout(120)
class InferenceMetricsITCase {
    static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster(REPORTER.addToConfiguration(FlinkTestCluster.conf()));

    /** Sum of a counter over all subtasks' {@value QuarryMetrics#GROUP} groups. */
    static long sum(String name) {
        long total = 0;
        for (Map.Entry<MetricGroup, Map<String, Metric>> e : REPORTER.getMetricsByGroup().entrySet()) {
            if (!e.getKey().getMetricIdentifier(name).endsWith(QuarryMetrics.GROUP + "." + name)) continue;
            Metric m = e.getValue().get(name);
            if (m instanceof Counter c) total += c.getCount();
        }
        return total;
    }

    @Test
    void countersHistogramAndErrorKinds(@TempDir Path tmp) throws Exception {
        int n = 600;
        Path in = BulkScoreJobITCase.writeInput(tmp.resolve("in"), n);
        long empties = 0, longs = 0, nulls = 0;
        for (int i = 0; i < n; i++) {
            if (i % 97 == 5) empties++;
            else if (i % 101 == 7) longs++;
            else if (i % 103 == 9) nulls++;
        }
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(tmp).build();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec).parallelism(2)
                .checkpointInterval(Duration.ofMillis(300)).build();
        FakeEngine.SUBMITTED.set(0);
        BulkScoreRunner.run(o, FakeEngine.factory(), System.err, false);

        assertEquals(n - nulls, FakeEngine.SUBMITTED.get(), "unparseable records never reach the engine");
        assertEquals(n, sum(QuarryMetrics.RECORDS_IN), "but they pass through the operator as invalid_record results");
        assertEquals(n, sum(QuarryMetrics.RECORDS_OUT));
        assertEquals(empties + longs + nulls, sum(QuarryMetrics.ERRORS));
        assertEquals(empties, sum(QuarryMetrics.errors(ErrorKind.EMPTY_INPUT)));
        assertEquals(longs, sum(QuarryMetrics.errors(ErrorKind.INPUT_TOO_LONG)));
        assertEquals(nulls, sum(QuarryMetrics.errors(ErrorKind.INVALID_RECORD)));
        assertTrue(sum(QuarryMetrics.GENERATED_TOKENS) > 0);
        long histogramCount = 0;
        for (Map<String, Metric> metrics : REPORTER.getMetricsByGroup().values()) {
            if (metrics.get(QuarryMetrics.LATENCY_MS) instanceof Histogram h) histogramCount += h.getCount();
        }
        assertEquals(n, histogramCount, "one latency sample per record");
    }
}
