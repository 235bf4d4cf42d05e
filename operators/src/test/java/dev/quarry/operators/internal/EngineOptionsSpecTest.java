package dev.quarry.operators.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.EngineOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Every engine option a job sets reaches the TaskManager: none is dropped on the way through the job graph. */
class EngineOptionsSpecTest {
    @Test
    void everyBatchingKnobSurvivesSerialization() throws Exception {
        BatchingOptions b = BatchingOptions.builder().maxPrefillTokens(100).maxActiveSequences(3).stateBudgetBytes(12345)
                .maxSequenceLength(77).queueCapacity(9).queueFullPolicy(BatchingOptions.QueueFullPolicy.FAIL_FAST)
                .requestTimeout(Duration.ofSeconds(4)).truncateInput(true).build();
        EngineOptions o = EngineOptions.builder().modelDir(Path.of("/models/x")).device("cpu").dtype("bf16").batching(b).build();

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(EngineOptionsSpec.of(o));
        }
        EngineOptionsSpec back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (EngineOptionsSpec) in.readObject();
        }
        EngineOptions rebuilt = back.toOptions(null);
        assertEquals(b.toString(), rebuilt.batching().toString());
        assertEquals(Path.of("/models/x"), rebuilt.modelDir());
        assertEquals("bf16", rebuilt.dtype());
        assertEquals("cuda:1", back.toOptions("cuda:1").device());
    }
}
