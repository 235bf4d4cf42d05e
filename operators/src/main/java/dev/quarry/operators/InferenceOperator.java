package dev.quarry.operators;

import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.task.Task;
import dev.quarry.operators.internal.EngineOptionsSpec;
import dev.quarry.operators.internal.InferenceFunction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Runs a Granite {@link Task} on every record of a stream, on Flink's Async I/O
 * ({@link AsyncDataStream}), through an engine shared by all subtasks of a TaskManager
 * ({@link EngineRegistry}).
 *
 * <pre>{@code
 * SingleOutputStreamOperator<MyResult> results = InferenceOperator.<MyRecord, MyResult>builder()
 *         .task(() -> SummarizeTask.builder().maxTokens(64).build())
 *         .engineOptions(EngineOptions.builder().modelDir(Path.of("/models/granite-4.0-h-micro")).build())
 *         .inputMapper(r -> TaskInput.of(r.id, r.text))
 *         .resultMapper((r, result, lineage) -> new MyResult(r, result, lineage))
 *         .outputType(TypeInformation.of(MyResult.class))
 *         .build()
 *         .apply(records);
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li><b>One output per input.</b> Every record yields exactly one output built by the result mapper: the
 *       task result, or an error result ({@code invalid_record} when the input mapper fails,
 *       {@code engine_failure} when the engine fails the request, {@code timeout} after
 *       {@link Builder#timeout}, and the engine's own record-level kinds such as {@code empty_input}).
 *       Errors never fail the job unless an {@link ErrorRateBound} says so. Route them with
 *       {@link ErrorRouting}.
 *   <li><b>Checkpoints.</b> Records in flight (submitted, no result yet) are part of the operator's
 *       checkpointed state; after a restore they are submitted to the engine again. With a replayable source
 *       and a transactional sink the pipeline is exactly-once end to end.
 *   <li><b>Order</b>: see {@link OutputOrder}.
 * </ul>
 */
public final class InferenceOperator<IN, OUT> {
    /** Records in flight per subtask: enough to keep a default engine batch (64 sequences) full with a queue behind it. */
    public static final int DEFAULT_CAPACITY = 128;
    /** Per-record timeout: generous, since a CPU engine can take minutes on long generations under load. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    public static final OutputOrder DEFAULT_ORDER = OutputOrder.ORDERED;

    /** The order in which results leave the operator. */
    public enum OutputOrder {
        /**
         * Results leave in input order (per subtask): a fast record waits for the slower ones before it.
         * Watermarks and checkpoint barriers keep their position.
         */
        ORDERED,
        /**
         * Results leave as soon as they are ready (higher throughput when lengths vary); order is kept only
         * relative to watermarks: no result crosses a watermark.
         */
        UNORDERED
    }

    private final TaskSupplier task;
    private final String taskName;
    private final EngineOptionsSpec engineOptions;
    private final EngineFactory engineFactory;
    private final InputMapper<IN> inputMapper;
    private final ResultMapper<IN, OUT> resultMapper;
    private final TypeInformation<OUT> outputType;
    private final OutputOrder order;
    private final int capacity;
    private final Duration timeout;
    private final ErrorRateBound errorRateBound;
    private final String name;
    private final String uid;

    private InferenceOperator(Builder<IN, OUT> b, String taskName) {
        this.task = b.task;
        this.taskName = taskName;
        this.engineOptions = EngineOptionsSpec.of(b.engineOptions);
        this.engineFactory = b.engineFactory;
        this.inputMapper = b.inputMapper;
        this.resultMapper = b.resultMapper;
        this.outputType = b.outputType;
        this.order = b.order;
        this.capacity = b.capacity;
        this.timeout = b.timeout;
        this.errorRateBound = b.errorRateBound;
        this.name = b.name != null ? b.name : "quarry-" + taskName;
        this.uid = b.uid;
    }

    public static <IN, OUT> Builder<IN, OUT> builder() {
        return new Builder<>();
    }

    /** Adds the operator after {@code input}; its parallelism is the environment's default unless set on the result. */
    public SingleOutputStreamOperator<OUT> apply(DataStream<IN> input) {
        InferenceFunction<IN, OUT> fn = new InferenceFunction<>(task, engineOptions, engineFactory, inputMapper, resultMapper,
                errorRateBound, timeout);
        long ms = timeout.toMillis();
        SingleOutputStreamOperator<OUT> out = order == OutputOrder.ORDERED
                ? AsyncDataStream.orderedWait(input, fn, ms, TimeUnit.MILLISECONDS, capacity)
                : AsyncDataStream.unorderedWait(input, fn, ms, TimeUnit.MILLISECONDS, capacity);
        out = out.returns(outputType).name(name);
        if (uid != null) out = out.uid(uid);
        return out;
    }

    public String taskName() { return taskName; }
    public OutputOrder order() { return order; }
    public int capacity() { return capacity; }
    public Duration timeout() { return timeout; }
    public ErrorRateBound errorRateBound() { return errorRateBound; }
    public String name() { return name; }

    public static final class Builder<IN, OUT> {
        private TaskSupplier task;
        private EngineOptions engineOptions;
        private EngineFactory engineFactory = EngineFactory.real();
        private InputMapper<IN> inputMapper;
        private ResultMapper<IN, OUT> resultMapper;
        private TypeInformation<OUT> outputType;
        private OutputOrder order = DEFAULT_ORDER;
        private int capacity = DEFAULT_CAPACITY;
        private Duration timeout = DEFAULT_TIMEOUT;
        private ErrorRateBound errorRateBound = ErrorRateBound.none();
        private String name;
        private String uid;

        private Builder() {}

        /** Required: builds the task on each subtask (see {@link TaskSupplier} for why it is a supplier). */
        public Builder<IN, OUT> task(TaskSupplier v) { this.task = v; return this; }
        /** Required: model directory, device, dtype and batching budget. Subtasks with equal {@link EngineOptions#registryKey()} (same model, device, dtype and batching options) share one engine. */
        public Builder<IN, OUT> engineOptions(EngineOptions v) { this.engineOptions = v; return this; }
        /** How engines are opened; default {@link EngineFactory#real()}. */
        public Builder<IN, OUT> engineFactory(EngineFactory v) { this.engineFactory = v; return this; }
        /** Required: record to {@link dev.quarry.engine.task.TaskInput}. */
        public Builder<IN, OUT> inputMapper(InputMapper<IN> v) { this.inputMapper = v; return this; }
        /** Required: (record, result, lineage) to output record. */
        public Builder<IN, OUT> resultMapper(ResultMapper<IN, OUT> v) { this.resultMapper = v; return this; }
        /** Required: the output's type information. */
        public Builder<IN, OUT> outputType(TypeInformation<OUT> v) { this.outputType = v; return this; }
        /** {@link OutputOrder#ORDERED} (default) or {@link OutputOrder#UNORDERED}. */
        public Builder<IN, OUT> order(OutputOrder v) { this.order = v; return this; }
        public Builder<IN, OUT> ordered() { return order(OutputOrder.ORDERED); }
        public Builder<IN, OUT> unordered() { return order(OutputOrder.UNORDERED); }
        /**
         * Records in flight per subtask (default {@value #DEFAULT_CAPACITY}). When reached, the operator stops
         * taking input (back-pressure). Every in-flight record is stored in each checkpoint.
         */
        public Builder<IN, OUT> capacity(int v) { this.capacity = v; return this; }
        /**
         * Time from submit to result after which a record yields a {@code timeout} error result (the job goes on;
         * the engine request is cancelled). Default {@link #DEFAULT_TIMEOUT}.
         */
        public Builder<IN, OUT> timeout(Duration v) { this.timeout = v; return this; }
        /** When to fail the job because too many records fail; default {@link ErrorRateBound#none()}. */
        public Builder<IN, OUT> errorRateBound(ErrorRateBound v) { this.errorRateBound = v; return this; }
        /** Operator name in the Flink UI and metrics (default {@code quarry-<task>}). */
        public Builder<IN, OUT> name(String v) { this.name = v; return this; }
        /** Operator uid; set it to restore from savepoints after the job graph changes. */
        public Builder<IN, OUT> uid(String v) { this.uid = v; return this; }

        /** Validates every option, builds the task once (a bad task fails here), and checks that the functions serialize. */
        public InferenceOperator<IN, OUT> build() {
            Objects.requireNonNull(task, "inference operator: task must be set");
            Objects.requireNonNull(engineOptions, "inference operator: engineOptions must be set");
            Objects.requireNonNull(engineFactory, "inference operator: engineFactory must not be null");
            Objects.requireNonNull(inputMapper, "inference operator: inputMapper must be set");
            Objects.requireNonNull(resultMapper, "inference operator: resultMapper must be set");
            Objects.requireNonNull(outputType, "inference operator: outputType must be set");
            Objects.requireNonNull(order, "inference operator: order must not be null");
            Objects.requireNonNull(errorRateBound, "inference operator: errorRateBound must not be null (use ErrorRateBound.none())");
            if (capacity < 1) throw new IllegalArgumentException("inference operator: capacity must be >= 1, got " + capacity);
            if (timeout == null || timeout.isNegative() || timeout.isZero() || timeout.toMillis() < 1) {
                throw new IllegalArgumentException("inference operator: timeout must be at least 1 ms, got " + timeout);
            }
            if (name != null && name.isBlank()) throw new IllegalArgumentException("inference operator: name must not be blank");
            if (uid != null && uid.isBlank()) throw new IllegalArgumentException("inference operator: uid must not be blank");
            Task t;
            try {
                t = task.get();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("inference operator: the task supplier failed: " + e.getMessage(), e);
            }
            if (t == null) throw new IllegalArgumentException("inference operator: the task supplier returned null");
            checkSerializable("task supplier", task);
            checkSerializable("engineFactory", engineFactory);
            checkSerializable("inputMapper", inputMapper);
            checkSerializable("resultMapper", resultMapper);
            return new InferenceOperator<>(this, t.name());
        }

        private static void checkSerializable(String what, Object o) {
            try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
                out.writeObject(o);
            } catch (IOException e) {
                throw new IllegalArgumentException("inference operator: the " + what + " is not serializable (" + e
                        + "); it must not capture non-serializable objects", e);
            }
        }
    }
}
