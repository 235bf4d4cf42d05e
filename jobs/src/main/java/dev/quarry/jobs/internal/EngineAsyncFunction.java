package dev.quarry.jobs.internal;

import dev.quarry.connectors.ErrorKinds;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.task.Task;
import dev.quarry.jobs.EngineFactory;
import dev.quarry.jobs.Results;
import dev.quarry.jobs.ScoringSpec;
import dev.quarry.jobs.TaskFactory;
import dev.quarry.jobs.InferenceMetrics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Async I/O bridge from {@link InputRecord} to {@link ResultRecord} over a shared engine. Errors are
 * data: engine failures and timeouts become error results, never job failures.
 *
 * <p>Stop-gap until the operators module's inference operator is wired in.
 */
public final class EngineAsyncFunction extends RichAsyncFunction<InputRecord, ResultRecord> {
    private static final long serialVersionUID = 1L;

    private final ScoringSpec spec;
    private final EngineFactory factory;
    private transient EngineOptions options;
    private transient Engine engine;
    private transient Task task;
    private transient Counter recordsIn, recordsOut, errors, promptTokens, generatedTokens;
    private transient Map<String, Counter> errorsByKind;
    private transient MetricGroup metrics;
    private transient Histogram latency;
    private transient AtomicInteger inFlight;

    public EngineAsyncFunction(ScoringSpec spec, EngineFactory factory) {
        this.spec = spec;
        this.factory = factory;
    }

    @Override
    public void open(OpenContext openContext) {
        System.setProperty("ai.djl.offline", "true");
        options = spec.engineOptions();
        engine = SharedEngines.acquire(options, factory);
        task = TaskFactory.build(spec);
        metrics = getRuntimeContext().getMetricGroup().addGroup(InferenceMetrics.GROUP);
        recordsIn = metrics.counter(InferenceMetrics.RECORDS_IN, new ThreadSafeSimpleCounter());
        recordsOut = metrics.counter(InferenceMetrics.RECORDS_OUT, new ThreadSafeSimpleCounter());
        errors = metrics.counter(InferenceMetrics.ERRORS, new ThreadSafeSimpleCounter());
        promptTokens = metrics.counter(InferenceMetrics.PROMPT_TOKENS, new ThreadSafeSimpleCounter());
        generatedTokens = metrics.counter(InferenceMetrics.GENERATED_TOKENS, new ThreadSafeSimpleCounter());
        metrics.meter(InferenceMetrics.PROMPT_TOKENS_PER_SECOND, new MeterView(promptTokens));
        metrics.meter(InferenceMetrics.GENERATED_TOKENS_PER_SECOND, new MeterView(generatedTokens));
        errorsByKind = new HashMap<>();
        for (String k : InferenceMetrics.ERROR_KINDS) errorsByKind.put(k, metrics.counter(InferenceMetrics.ERRORS_PREFIX + k, new ThreadSafeSimpleCounter()));
        latency = metrics.histogram(InferenceMetrics.LATENCY_MS, new DescriptiveStatisticsHistogram(InferenceMetrics.LATENCY_WINDOW));
        inFlight = new AtomicInteger();
        metrics.gauge(InferenceMetrics.IN_FLIGHT, inFlight::get);
    }

    /** Counts a result and hands it on. */
    private void emit(ResultFuture<ResultRecord> out, ResultRecord r, long startNanos) {
        inFlight.decrementAndGet();
        recordsOut.inc();
        if (r.isError()) {
            errors.inc();
            Counter c;
            synchronized (errorsByKind) {
                c = errorsByKind.computeIfAbsent(r.errorKind,
                        k -> metrics.counter(InferenceMetrics.ERRORS_PREFIX + k, new ThreadSafeSimpleCounter()));
            }
            c.inc();
        }
        promptTokens.inc(r.promptTokens);
        generatedTokens.inc(r.generatedTokens);
        synchronized (latency) {
            latency.update((System.nanoTime() - startNanos) / 1_000_000L);
        }
        out.complete(List.of(r));
    }

    @Override
    public void asyncInvoke(InputRecord in, ResultFuture<ResultRecord> out) {
        String name = spec.task().wireName();
        long start = System.nanoTime();
        recordsIn.inc();
        inFlight.incrementAndGet();
        try {
            engine.submit(task, Results.taskInput(in)).whenComplete((tr, ex) -> {
                if (ex != null) emit(out, ResultRecord.failed(in, name, ErrorKinds.ENGINE_FAILURE, "record " + in.id + ": " + ex), start);
                else emit(out, Results.from(in, tr, engine.modelInfo(), task.describeDecoding()), start);
            });
        } catch (RuntimeException e) {
            emit(out, ResultRecord.failed(in, name, ErrorKinds.ENGINE_FAILURE, "record " + in.id + ": " + e), start);
        }
    }

    @Override
    public void timeout(InputRecord in, ResultFuture<ResultRecord> out) {
        emit(out, ResultRecord.failed(in, spec.task().wireName(), ErrorKinds.TIMEOUT,
                "record " + in.id + " took longer than " + spec.timeout()), System.nanoTime());
    }

    @Override
    public void close() {
        if (options != null) SharedEngines.release(options);
    }
}
