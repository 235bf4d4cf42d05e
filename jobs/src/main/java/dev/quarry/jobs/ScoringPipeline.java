package dev.quarry.jobs;

import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.operators.InferenceOperator;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The shared middle of every job: every record goes through the inference operator ({@link InferenceOperator});
 * records a source found invalid become {@code invalid_record} results there (with the source's reason and the
 * raw bytes, see {@link Results#taskInput}), so they count toward the error-rate bound like every other error.
 * One {@link ResultRecord} comes out per input record.
 */
public final class ScoringPipeline {
    public static final String OPERATOR_NAME = "granite-inference";

    private ScoringPipeline() {}

    public static DataStream<ResultRecord> score(DataStream<InputRecord> input, ScoringSpec spec, EngineFactory engines) {
        return InferenceOperator.<InputRecord, ResultRecord>builder()
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
                .apply(input);
    }
}
