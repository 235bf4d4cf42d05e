package dev.quarry.jobs;

import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.operators.InferenceOperator;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The shared middle of every job: invalid records become {@code invalid_record} results, valid ones
 * go through the inference operator ({@link InferenceOperator}), and both come out as one stream of
 * {@link ResultRecord}s (one per input record).
 */
public final class ScoringPipeline {
    public static final String OPERATOR_NAME = "granite-inference";

    private ScoringPipeline() {}

    public static DataStream<ResultRecord> score(DataStream<InputRecord> input, ScoringSpec spec, EngineFactory engines) {
        String task = spec.task().wireName();
        DataStream<ResultRecord> invalid = input.filter(r -> !r.isValid()).name("invalid-records")
                .map(r -> ResultRecord.invalid(r, task)).returns(TypeInformation.of(ResultRecord.class)).name("to-dead-letter");
        DataStream<InputRecord> valid = input.filter(InputRecord::isValid).name("valid-records");
        DataStream<ResultRecord> scored = InferenceOperator.<InputRecord, ResultRecord>builder()
                .task(() -> TaskFactory.build(spec))
                .engineOptions(spec.engineOptions())
                .engineFactory(engines)
                .inputMapper(Results::taskInput)
                .resultMapper(Results::from)
                .outputType(TypeInformation.of(ResultRecord.class))
                .order(spec.ordered() ? InferenceOperator.OutputOrder.ORDERED : InferenceOperator.OutputOrder.UNORDERED)
                .capacity(spec.capacity())
                .timeout(spec.timeout())
                .errorRateBound(spec.errorRateBound())
                .name(OPERATOR_NAME)
                .uid(OPERATOR_NAME)
                .build()
                .apply(valid);
        return scored.union(invalid);
    }
}
