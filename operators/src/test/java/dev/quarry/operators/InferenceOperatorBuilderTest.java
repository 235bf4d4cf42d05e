package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.TaskInput;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.typeinfo.Types;
import org.junit.jupiter.api.Test;

class InferenceOperatorBuilderTest {
    static InferenceOperator.Builder<String, String> valid() {
        return InferenceOperator.<String, String>builder()
                .task(() -> SummarizeTask.builder().maxTokens(8).build())
                .engineOptions(EngineOptions.builder().modelDir(Path.of("/models/x")).build())
                .engineFactory(FakeEngine.factory(0))
                .inputMapper(s -> TaskInput.of(s, s))
                .resultMapper((in, r, l) -> r.id())
                .outputType(Types.STRING);
    }

    static String fails(InferenceOperator.Builder<String, String> b) {
        return assertThrows(RuntimeException.class, b::build).getMessage();
    }

    @Test
    void defaults() {
        InferenceOperator<String, String> op = valid().build();
        assertEquals(InferenceOperator.DEFAULT_CAPACITY, op.capacity());
        assertEquals(InferenceOperator.DEFAULT_TIMEOUT, op.timeout());
        assertEquals(InferenceOperator.OutputOrder.ORDERED, op.order());
        assertTrue(op.errorRateBound().isNone(), "errors never fail the job by default");
        assertEquals("summarize", op.taskName());
        assertEquals("quarry-summarize", op.name());
    }

    @Test
    void requiredAndInvalidOptionsFailWithClearMessages() {
        assertTrue(fails(valid().task(null)).contains("task must be set"));
        assertTrue(fails(valid().engineOptions(null)).contains("engineOptions must be set"));
        assertTrue(fails(valid().inputMapper(null)).contains("inputMapper must be set"));
        assertTrue(fails(valid().resultMapper(null)).contains("resultMapper must be set"));
        assertTrue(fails(valid().outputType(null)).contains("outputType must be set"));
        assertTrue(fails(valid().capacity(0)).contains("capacity must be >= 1"));
        assertTrue(fails(valid().timeout(Duration.ZERO)).contains("timeout must be at least 1 ms"));
        assertTrue(fails(valid().timeout(Duration.ofSeconds(-1))).contains("timeout"));
        assertTrue(fails(valid().name(" ")).contains("name must not be blank"));
    }

    @Test
    void badTaskFailsAtBuildTime() {
        String m = fails(valid().task(() -> ClassifyTask.builder().build()));
        assertTrue(m.contains("task supplier failed"), m);
    }

    @Test
    void nonSerializableMapperIsRejected() {
        Object notSerializable = new Object();
        String m = fails(valid().inputMapper(s -> TaskInput.of(s, s + notSerializable.hashCode())));
        assertTrue(m.contains("inputMapper is not serializable"), m);
    }
}
