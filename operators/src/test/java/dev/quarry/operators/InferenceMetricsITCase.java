package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.ErrorKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The operator's metrics are registered under their public names and count what happened. */
@Timeout(120)
class InferenceMetricsITCase {
    static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(REPORTER.addToConfiguration(Records.clusterConf())).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static Metric metric(JobID job, String name) {
        Map<String, Metric> found = REPORTER.findMetrics(job, ".*\\." + QuarryMetrics.GROUP + "\\." + name + "$");
        assertEquals(1, found.size(), name + " registered once per subtask (parallelism 1): " + found.keySet());
        return found.values().iterator().next();
    }

    static long count(JobID job, String name) {
        return ((Counter) metric(job, name)).getCount();
    }

    @Test
    void countersMetersGaugesAndLatencyHistogram() throws Exception {
        FakeEngine.reset();
        List<String> in = new ArrayList<>(Records.numbered("m", 20));
        in.add("e1=");
        in.add("e2=");
        in.add("f1=fail: x");
        in.add("no separator");
        in.add("s1=stuck: y");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        CloseableIterator<String> it = Records.operator(FakeEngine.factory(0)).timeout(Duration.ofMillis(500)).build()
                .apply(env.fromData(in)).collectAsync();
        JobClient client = env.executeAsync("metrics");
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        client.getJobExecutionResult().get();
        JobID job = client.getJobID();
        assertEquals(in.size(), out.size());

        assertEquals(in.size(), count(job, QuarryMetrics.RECORDS_IN));
        assertEquals(in.size(), count(job, QuarryMetrics.RECORDS_OUT));
        assertEquals(5, count(job, QuarryMetrics.ERRORS));
        assertEquals(2, count(job, QuarryMetrics.errors(ErrorKind.EMPTY_INPUT)));
        assertEquals(1, count(job, QuarryMetrics.errors(ErrorKind.ENGINE_FAILURE)));
        assertEquals(1, count(job, QuarryMetrics.errors(ErrorKind.INVALID_RECORD)));
        assertEquals(1, count(job, QuarryMetrics.errors(ErrorKind.TIMEOUT)));
        assertEquals(0, count(job, QuarryMetrics.errors(ErrorKind.SCHEMA_VIOLATION)));
        long promptChars = 0;
        for (String r : Records.numbered("m", 20)) promptChars += r.length() - r.indexOf('=') - 1;
        assertEquals(promptChars, count(job, QuarryMetrics.PROMPT_TOKENS), "fake: one prompt token per char");
        assertEquals(20, count(job, QuarryMetrics.GENERATED_TOKENS));
        assertTrue(metric(job, QuarryMetrics.GENERATED_TOKENS_PER_SECOND) instanceof Meter);
        assertTrue(metric(job, QuarryMetrics.PROMPT_TOKENS_PER_SECOND) instanceof Meter);
        Histogram latency = (Histogram) metric(job, QuarryMetrics.LATENCY_MS);
        assertEquals(in.size(), latency.getCount(), "one latency sample per record");
        assertTrue(latency.getStatistics().getMax() >= 500, "the timed-out record waited for the timeout");
        assertEquals(0, ((Gauge<?>) metric(job, QuarryMetrics.IN_FLIGHT)).getValue(), "nothing left in flight");
        assertEquals(1234L, ((Gauge<?>) metric(job, QuarryMetrics.ENGINE_STATE_BYTES)).getValue(), "engine memory from Engine.stats()");
        assertEquals(77L, ((Gauge<?>) metric(job, QuarryMetrics.ENGINE_DECODE_ROWS)).getValue(), "decode rows from Engine.stats()");
        assertEquals(5L, ((Gauge<?>) metric(job, QuarryMetrics.ENGINE_DECODE_MILLIS)).getValue(), "decode time in ms");
        metric(job, QuarryMetrics.ENGINE_QUEUE_DEPTH);
        metric(job, QuarryMetrics.ENGINE_ACTIVE_SEQUENCES);
        metric(job, QuarryMetrics.ENGINE_BATCH_OCCUPANCY);
    }
}
