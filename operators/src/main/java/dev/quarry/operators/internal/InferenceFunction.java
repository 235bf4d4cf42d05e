package dev.quarry.operators.internal;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineError;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import dev.quarry.operators.EngineFactory;
import dev.quarry.operators.EngineRegistry;
import dev.quarry.operators.ErrorRateBound;
import dev.quarry.operators.ErrorRateExceededException;
import dev.quarry.operators.InputMapper;
import dev.quarry.operators.InvalidRecordException;
import dev.quarry.operators.Lineage;
import dev.quarry.operators.ResultMapper;
import dev.quarry.operators.TaskSupplier;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Async I/O function behind {@link dev.quarry.operators.InferenceOperator}: one engine request per
 * record, exactly one output per record (a result or an error result), never an exception for a bad record.
 *
 * <p>Threading: {@link #asyncInvoke} runs on the task's mailbox thread. It maps the record and calls
 * {@link Engine#submit}, which returns at once unless the engine's queue is full and its policy is
 * {@code BLOCK}: then it blocks the mailbox thread until there is room, which is the intended back-pressure
 * (the source slows down; checkpoint barriers wait too). Results complete on engine threads and are handed
 * to Flink's {@link ResultFuture}, which is thread-safe.
 */
public final class InferenceFunction<IN, OUT> extends RichAsyncFunction<IN, OUT> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceFunction.class);
    /** Longest rendering of a record in an error message when its id is unknown. */
    static final int MAX_RECORD_CHARS = 200;
    /** Record id used when the input mapper failed and no id is known. */
    public static final String UNKNOWN_ID = "<unknown>";

    private final TaskSupplier taskSupplier;
    private final EngineOptionsSpec engineOptions;
    private final EngineFactory engineFactory;
    private final InputMapper<IN> inputMapper;
    private final ResultMapper<IN, OUT> resultMapper;
    private final ErrorRateBound errorRateBound;
    private final Duration timeout;

    private transient EngineRegistry.Lease lease;
    private transient Engine engine;
    private transient Task task;
    private transient String taskName;
    private transient String decoding;
    private transient ModelInfo model;
    private transient OperatorMetrics metrics;
    private transient ErrorRateTracker tracker;
    /** Job id and task name with subtask index: this subtask across restarts (see {@link TrippedBounds}). */
    private transient String subtask;
    private transient Map<ResultFuture<OUT>, Pending<IN, OUT>> pending;

    public InferenceFunction(TaskSupplier taskSupplier, EngineOptionsSpec engineOptions, EngineFactory engineFactory,
                             InputMapper<IN> inputMapper, ResultMapper<IN, OUT> resultMapper,
                             ErrorRateBound errorRateBound, Duration timeout) {
        this.taskSupplier = taskSupplier;
        this.engineOptions = engineOptions;
        this.engineFactory = engineFactory;
        this.inputMapper = inputMapper;
        this.resultMapper = resultMapper;
        this.errorRateBound = errorRateBound;
        this.timeout = timeout;
    }

    /** One record between submit and result. */
    private static final class Pending<IN, OUT> {
        final IN in;
        final ResultFuture<OUT> out;
        final long startNanos;
        final AtomicBoolean done = new AtomicBoolean();
        volatile String id;
        volatile CompletableFuture<TaskResult> future;

        Pending(IN in, ResultFuture<OUT> out, long startNanos) {
            this.in = in;
            this.out = out;
            this.startNanos = startNanos;
        }
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        TaskInfo info = getRuntimeContext().getTaskInfo(); // not getTaskNameWithSubtasks: it names the attempt too
        subtask = getRuntimeContext().getJobInfo().getJobId() + "/" + info.getTaskName() + "/" + info.getIndexOfThisSubtask();
        String tripped = TrippedBounds.get(subtask);
        if (tripped != null) {
            throw new ErrorRateExceededException(tripped + " (tripped in an earlier attempt of this subtask, which Flink"
                    + " restarted for a source event lost at that moment)");
        }
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        task = taskSupplier.get();
        taskName = task.name();
        decoding = task.describeDecoding();
        String device = GpuDevices.resolve(engineOptions.device(),
                getRuntimeContext().getExternalResourceInfos(GpuDevices.RESOURCE_NAME));
        EngineOptions options = engineOptions.toOptions(device);
        if (!device.equals(engineOptions.device())) {
            LOG.info("Quarry inference: device {} from Flink's external resource '{}' (configured {})", device,
                    GpuDevices.RESOURCE_NAME, engineOptions.device());
        }
        lease = EngineRegistry.acquire(options, engineFactory);
        engine = lease.engine();
        model = engine.modelInfo();
        metrics = new OperatorMetrics(getRuntimeContext().getMetricGroup(), engine);
        tracker = new ErrorRateTracker(errorRateBound);
        pending = new ConcurrentHashMap<>();
    }

    @Override
    public void close() throws Exception {
        // Records still in flight here belong to a cancelled, failed or stopped attempt: they are in the checkpoint
        // and the restored attempt submits them again. Withdraw their requests from the engine, which other subtasks
        // and jobs may share and keep open, so that they stop holding its batch slots. Claimed first: nothing is
        // emitted or counted for them.
        if (pending != null) {
            for (Pending<IN, OUT> p : pending.values()) {
                if (p.done.compareAndSet(false, true) && p.future != null) p.future.cancel(false);
            }
            pending.clear();
        }
        if (lease != null) {
            lease.close();
            lease = null;
            engine = null;
        }
    }

    @Override
    public void asyncInvoke(IN in, ResultFuture<OUT> out) {
        Pending<IN, OUT> p = new Pending<>(in, out, System.nanoTime());
        metrics.recordIn();
        pending.put(out, p);
        TaskInput input;
        try {
            input = inputMapper.map(in);
            if (input == null) throw new IllegalArgumentException("the input mapper returned null");
        } catch (InvalidRecordException e) {
            p.id = e.recordId() != null ? e.recordId() : UNKNOWN_ID;
            finish(p, TaskResult.failed(p.id, taskName, new EngineError(ErrorKind.INVALID_RECORD, e.getMessage()), elapsed(p)));
            return;
        } catch (Exception e) {
            finish(p, TaskResult.failed(UNKNOWN_ID, taskName, new EngineError(ErrorKind.INVALID_RECORD,
                    "record " + render(in) + " cannot be mapped to a task input: " + e), elapsed(p)));
            return;
        }
        p.id = input.id();
        CompletableFuture<TaskResult> f;
        try {
            f = engine.submit(task, input);
        } catch (RuntimeException e) {
            finish(p, engineFailure(p, e));
            return;
        }
        p.future = f;
        f.whenComplete((r, ex) -> {
            if (ex != null) finish(p, engineFailure(p, ex));
            else if (r == null) finish(p, engineFailure(p, new IllegalStateException("the engine returned no result")));
            else finish(p, r);
        });
    }

    /**
     * Flink calls this from its timer when the record's {@link ResultFuture} is not completed yet. The engine's
     * answer may be racing it: {@link #finish} claims the record first (then the pending entry is gone and this
     * is a no-op, the answer's output is on its way) or the timeout claims it (then the late answer is dropped).
     * Either way the record is counted and emitted exactly once.
     */
    @Override
    public void timeout(IN in, ResultFuture<OUT> out) {
        Pending<IN, OUT> p = pending.get(out);
        if (p == null || p.done.get()) return; // the engine's answer already claimed this record
        CompletableFuture<TaskResult> f = p.future;
        String id = p.id != null ? p.id : UNKNOWN_ID;
        finish(p, TaskResult.failed(id, taskName, new EngineError(ErrorKind.TIMEOUT,
                "record '" + id + "' got no result within the operator timeout of " + timeout), elapsed(p)));
        // frees the engine's slot: the scheduler drops sequences whose future is done
        if (f != null) f.cancel(false);
    }

    private TaskResult engineFailure(Pending<IN, OUT> p, Throwable ex) {
        Throwable c = ex;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) c = c.getCause();
        String id = p.id != null ? p.id : UNKNOWN_ID;
        return TaskResult.failed(id, taskName, new EngineError(ErrorKind.ENGINE_FAILURE, engineFailureMessage(id, c)), elapsed(p));
    }

    /** The engine_failure message of record {@code id}: it names the record once, whether or not the engine's exception does. */
    static String engineFailureMessage(String id, Throwable c) {
        if (c instanceof CancellationException) return "record '" + id + "': request was cancelled";
        String named = c.getMessage() != null && c.getMessage().contains("'" + id + "'") ? "" : "record '" + id + "': ";
        return named + "engine failed: " + c;
    }

    private static long elapsed(Pending<?, ?> p) {
        return System.nanoTime() - p.startNanos;
    }

    /** Emits the one output of a record; later calls for the same record (a result after its timeout) are ignored. */
    private void finish(Pending<IN, OUT> p, TaskResult r) {
        if (!p.done.compareAndSet(false, true)) return;
        pending.remove(p.out);
        Lineage lineage = new Lineage(r.id(), taskName, model.name(), model.weightsHash(), decoding);
        OUT result;
        try {
            result = resultMapper.map(p.in, r, lineage);
        } catch (Exception e) {
            if (r.isError()) {
                metrics.recordOut(r, elapsed(p));
                p.out.completeExceptionally(new IllegalStateException("Quarry inference: the result mapper failed on the error result of record '"
                        + r.id() + "' (" + r.error().kind().wireName() + ": " + r.error().message() + ")", e));
                return;
            }
            r = TaskResult.failed(r.id(), taskName, new EngineError(ErrorKind.INVALID_RECORD,
                    "record '" + r.id() + "': the result mapper failed: " + e), r.latencyNanos());
            try {
                result = resultMapper.map(p.in, r, lineage);
            } catch (Exception e2) {
                e2.addSuppressed(e);
                metrics.recordOut(r, elapsed(p));
                p.out.completeExceptionally(new IllegalStateException("Quarry inference: the result mapper failed on record '" + r.id() + "'", e2));
                return;
            }
        }
        metrics.recordOut(r, elapsed(p));
        String violation = tracker.record(r.isError() ? r.error().kind() : null, r.id(), r.isError() ? r.error().message() : null);
        if (violation != null) {
            String message = "Quarry inference (task " + taskName + ", model " + model.name() + "): " + violation
                    + " Configured bound: " + errorRateBound
                    + ". Fix the input or the task, or relax the bound (quarry bulk-score/stream: --max-errors, --max-error-rate,"
                    + " --error-window; API: InferenceOperator.Builder#errorRateBound).";
            TrippedBounds.record(subtask, message);
            p.out.completeExceptionally(new ErrorRateExceededException(message));
            return;
        }
        p.out.complete(Collections.singletonList(result));
    }

    static String render(Object in) {
        String s = String.valueOf(in);
        return s.length() <= MAX_RECORD_CHARS ? s : s.substring(0, MAX_RECORD_CHARS) + "...(" + s.length() + " chars)";
    }
}
