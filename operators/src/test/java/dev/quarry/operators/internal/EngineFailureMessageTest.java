package dev.quarry.operators.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

class EngineFailureMessageTest {
    @Test
    void theRecordIsNamedOnce() {
        assertEquals("record 'r1': engine failed: java.lang.IllegalStateException: boom",
                InferenceFunction.engineFailureMessage("r1", new IllegalStateException("boom")));
        assertEquals("engine failed: java.util.concurrent.RejectedExecutionException: queue full, record 'r1' rejected",
                InferenceFunction.engineFailureMessage("r1", new RejectedExecutionException("queue full, record 'r1' rejected")));
        assertEquals("record 'r1': engine failed: java.lang.NullPointerException",
                InferenceFunction.engineFailureMessage("r1", new NullPointerException()));
        assertEquals("record 'r1': request was cancelled", InferenceFunction.engineFailureMessage("r1", new CancellationException()));
    }
}
