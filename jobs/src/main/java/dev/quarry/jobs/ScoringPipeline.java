package dev.quarry.jobs;

import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.jobs.internal.EngineAsyncFunction;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The shared middle of every job: invalid records become {@code invalid_record} results, valid ones
 * go through the inference operator, and both come out as one stream of {@link ResultRecord}s (one
 * per input record).
 */
public final class ScoringPipeline {
    public static final String OPERATOR_NAME = "granite-inference";

    private ScoringPipeline() {}

    public static DataStream<ResultRecord> score(DataStream<InputRecord> input, ScoringSpec spec, EngineFactory engines) {
        String task = spec.task().wireName();
        DataStream<ResultRecord> invalid = input.filter(r -> !r.isValid()).name("invalid-records")
                .map(r -> ResultRecord.invalid(r, task)).returns(TypeInformation.of(ResultRecord.class)).name("to-dead-letter");
        DataStream<InputRecord> valid = input.filter(InputRecord::isValid).name("valid-records");
        EngineAsyncFunction fn = new EngineAsyncFunction(spec, engines);
        long timeoutMs = spec.timeout().toMillis();
        DataStream<ResultRecord> scored = (spec.ordered()
                        ? AsyncDataStream.orderedWait(valid, fn, timeoutMs, TimeUnit.MILLISECONDS, spec.capacity())
                        : AsyncDataStream.unorderedWait(valid, fn, timeoutMs, TimeUnit.MILLISECONDS, spec.capacity()))
                .returns(TypeInformation.of(ResultRecord.class))
                .name(OPERATOR_NAME).uid(OPERATOR_NAME);
        return scored.union(invalid);
    }
}
