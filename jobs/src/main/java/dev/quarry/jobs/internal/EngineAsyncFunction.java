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
import java.util.List;
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
    }

    @Override
    public void asyncInvoke(InputRecord in, ResultFuture<ResultRecord> out) {
        String name = spec.task().wireName();
        try {
            engine.submit(task, Results.taskInput(in)).whenComplete((tr, ex) -> {
                if (ex != null) out.complete(List.of(ResultRecord.failed(in, name, ErrorKinds.ENGINE_FAILURE, "record " + in.id + ": " + ex)));
                else out.complete(List.of(Results.from(in, tr, engine.modelInfo(), task.describeDecoding())));
            });
        } catch (RuntimeException e) {
            out.complete(List.of(ResultRecord.failed(in, name, ErrorKinds.ENGINE_FAILURE, "record " + in.id + ": " + e)));
        }
    }

    @Override
    public void timeout(InputRecord in, ResultFuture<ResultRecord> out) {
        out.complete(List.of(ResultRecord.failed(in, spec.task().wireName(), ErrorKinds.TIMEOUT,
                "record " + in.id + " took longer than " + spec.timeout())));
    }

    @Override
    public void close() {
        if (options != null) SharedEngines.release(options);
    }
}
