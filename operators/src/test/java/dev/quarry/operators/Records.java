package dev.quarry.operators;

import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.SecurityOptions;

/**
 * Test records are strings {@code id=text}; outputs are strings {@code id|status|text|model|hash|decoding|message}
 * where status is {@code ok} or the error kind.
 */
final class Records {
    private Records() {}

    static TaskInput toInput(String record) {
        int eq = record.indexOf('=');
        if (eq < 0) throw new IllegalArgumentException("no '=' in record");
        return TaskInput.of(record.substring(0, eq), record.substring(eq + 1));
    }

    static String toOutput(String record, TaskResult r, Lineage l) {
        return String.join("|", r.id(), r.isError() ? r.error().kind().wireName() : "ok", String.valueOf(r.text()), l.modelName(),
                l.weightsHash(), l.decoding(), r.isError() ? r.error().message() : "");
    }

    static String id(String out) { return out.split("\\|", -1)[0]; }
    static String status(String out) { return out.split("\\|", -1)[1]; }
    static String text(String out) { return out.split("\\|", -1)[2]; }
    static String message(String out) { return out.split("\\|", -1)[6]; }

    static EngineOptions options(String model) {
        return EngineOptions.builder().modelDir(Path.of("/fake-models", model)).build();
    }

    static InferenceOperator.Builder<String, String> operator(EngineFactory factory) {
        return InferenceOperator.<String, String>builder()
                .task(() -> SummarizeTask.builder().maxTokens(8).build())
                .engineOptions(options("m1"))
                .engineFactory(factory)
                .inputMapper(Records::toInput)
                .resultMapper(Records::toOutput)
                .outputType(Types.STRING);
    }

    static List<String> numbered(String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(prefix + i + "=text number " + i);
        return out;
    }

    static List<String> ids(List<String> outputs) {
        return outputs.stream().map(Records::id).toList();
    }

    static Configuration clusterConf() {
        Configuration c = new Configuration();
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        c.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        return c;
    }
}
