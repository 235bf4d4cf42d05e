package dev.quarry.operators;

import java.io.Serializable;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Dead-letter routing: splits a result stream into good results (the main output) and errors (a side
 * output), so errors can go to a dead-letter topic or files while the job keeps running. Every record goes
 * to exactly one of the two.
 */
public final class ErrorRouting {
    /** Name of the side output and of the routing operator. */
    public static final String ERRORS_TAG = "quarry-errors";

    private ErrorRouting() {}

    /** Tells an error result from a good one. */
    @FunctionalInterface
    public interface ErrorPredicate<T> extends Serializable {
        boolean isError(T result);
    }

    /** The two halves: {@code good} (main output) and {@code errors} (side output {@code tag}). */
    public record Split<T>(SingleOutputStreamOperator<T> good, DataStream<T> errors, OutputTag<T> tag) {}

    public static <T> Split<T> split(DataStream<T> results, ErrorPredicate<T> isError) {
        OutputTag<T> tag = new OutputTag<>(ERRORS_TAG, results.getType());
        SingleOutputStreamOperator<T> good = results.process(new Router<>(tag, isError), results.getType()).name(ERRORS_TAG + "-routing");
        return new Split<>(good, good.getSideOutput(tag), tag);
    }

    private static final class Router<T> extends ProcessFunction<T, T> {
        private static final long serialVersionUID = 1L;
        private final OutputTag<T> tag;
        private final ErrorPredicate<T> isError;

        Router(OutputTag<T> tag, ErrorPredicate<T> isError) {
            this.tag = tag;
            this.isError = isError;
        }

        @Override
        public void processElement(T value, Context ctx, Collector<T> out) {
            if (isError.isError(value)) ctx.output(tag, value);
            else out.collect(value);
        }
    }
}
