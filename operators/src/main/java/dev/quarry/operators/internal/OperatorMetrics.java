package dev.quarry.operators.internal;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineStats;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.task.TaskResult;
import dev.quarry.operators.QuarryMetrics;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/** The operator's metrics ({@link QuarryMetrics} names). Updates are thread-safe (results complete on engine threads). */
public final class OperatorMetrics {
    private final Counter recordsIn;
    private final Counter recordsOut;
    private final Counter errors;
    private final Map<ErrorKind, Counter> errorsByKind = new EnumMap<>(ErrorKind.class);
    private final Counter promptTokens;
    private final Counter generatedTokens;
    private final Histogram latency;
    private final AtomicInteger inFlight = new AtomicInteger();

    public OperatorMetrics(MetricGroup operatorGroup, Engine engine) {
        MetricGroup g = operatorGroup.addGroup(QuarryMetrics.GROUP);
        recordsIn = g.counter(QuarryMetrics.RECORDS_IN, new ThreadSafeSimpleCounter());
        recordsOut = g.counter(QuarryMetrics.RECORDS_OUT, new ThreadSafeSimpleCounter());
        errors = g.counter(QuarryMetrics.ERRORS, new ThreadSafeSimpleCounter());
        for (ErrorKind k : ErrorKind.values()) errorsByKind.put(k, g.counter(QuarryMetrics.errors(k), new ThreadSafeSimpleCounter()));
        promptTokens = g.counter(QuarryMetrics.PROMPT_TOKENS, new ThreadSafeSimpleCounter());
        generatedTokens = g.counter(QuarryMetrics.GENERATED_TOKENS, new ThreadSafeSimpleCounter());
        g.meter(QuarryMetrics.PROMPT_TOKENS_PER_SECOND, new MeterView(promptTokens));
        g.meter(QuarryMetrics.GENERATED_TOKENS_PER_SECOND, new MeterView(generatedTokens));
        g.meter(QuarryMetrics.RECORDS_OUT_PER_SECOND, new MeterView(recordsOut));
        latency = g.histogram(QuarryMetrics.LATENCY_MS, new DescriptiveStatisticsHistogram(QuarryMetrics.LATENCY_WINDOW));
        g.gauge(QuarryMetrics.IN_FLIGHT, (Gauge<Integer>) inFlight::get);
        g.gauge(QuarryMetrics.ENGINE_QUEUE_DEPTH, engineGauge(engine, EngineStats::queueDepth));
        g.gauge(QuarryMetrics.ENGINE_ACTIVE_SEQUENCES, engineGauge(engine, EngineStats::activeSequences));
        g.gauge(QuarryMetrics.ENGINE_STATE_BYTES, engineGauge(engine, EngineStats::stateBytes));
        g.gauge(QuarryMetrics.ENGINE_DECODE_ROWS, engineGauge(engine, EngineStats::decodeRows));
        g.gauge(QuarryMetrics.ENGINE_DECODE_MILLIS, engineGauge(engine, s -> s.decodeNanos() / 1_000_000L));
        g.gauge(QuarryMetrics.ENGINE_BATCH_OCCUPANCY, (Gauge<Double>) () -> {
            EngineStats s = stats(engine);
            return s == null ? 0.0 : s.occupancy();
        });
    }

    private static Gauge<Long> engineGauge(Engine engine, ToLongFunction<EngineStats> f) {
        return () -> {
            EngineStats s = stats(engine);
            return s == null ? 0L : f.applyAsLong(s);
        };
    }

    private static EngineStats stats(Engine engine) {
        try {
            return engine.stats();
        } catch (RuntimeException e) {
            return null; // a closed engine (or one without stats) reports zeros rather than breaking the reporter
        }
    }

    public void recordIn() {
        recordsIn.inc();
        inFlight.incrementAndGet();
    }

    public void recordOut(TaskResult r, long latencyNanos) {
        inFlight.decrementAndGet();
        recordsOut.inc();
        if (r.isError()) {
            errors.inc();
            errorsByKind.get(r.error().kind()).inc();
        }
        promptTokens.inc(r.promptTokens());
        generatedTokens.inc(r.generatedTokens());
        synchronized (latency) {
            latency.update(latencyNanos / 1_000_000L);
        }
    }
}
