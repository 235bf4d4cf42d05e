package dev.quarry.operators.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.operators.EngineFactory;
import dev.quarry.operators.EngineRegistry;
import dev.quarry.operators.ErrorRateBound;
import dev.quarry.operators.internal.InferenceFunctionCountingTest.HandEngine;
import dev.quarry.operators.internal.InferenceFunctionCountingTest.Metrics;
import dev.quarry.operators.internal.InferenceFunctionCountingTest.Out;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobInfoImpl;
import org.apache.flink.api.common.TaskInfoImpl;
import org.apache.flink.api.common.functions.DefaultOpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A subtask that is closed with records in flight (cancelled, failed over, stopped with a savepoint) withdraws
 * their requests from the engine it shares with other subtasks and jobs: those records are in the checkpoint
 * and are submitted again by the restored attempt, so the old requests would only hold batch slots.
 */
@Timeout(60)
class InferenceFunctionCloseTest {

    @Test
    void closeCancelsTheInFlightRequestsOfThisSubtaskInTheSharedEngine() throws Exception {
        HandEngine.FUTURES.clear();
        EngineOptions options = EngineOptions.builder().modelDir(Path.of("/hand-models", "close-test")).build();
        EngineFactory engines = (EngineOptions o) -> new HandEngine();
        // another subtask (or job) of this TaskManager holds the same engine
        EngineRegistry.Lease other = EngineRegistry.acquire(options, engines);
        try {
            InferenceFunction<String, String> fn = new InferenceFunction<>(() -> SummarizeTask.builder().maxTokens(4).build(),
                    EngineOptionsSpec.of(options), engines, s -> TaskInput.of(s, "text of " + s),
                    (s, r, lineage) -> r.id() + "|" + (r.isError() ? r.error().kind().wireName() : r.text()),
                    ErrorRateBound.none(), Duration.ofMinutes(10));
            Metrics metrics = new Metrics();
            fn.setRuntimeContext((RuntimeContext) Proxy.newProxyInstance(RuntimeContext.class.getClassLoader(),
                    new Class<?>[] {RuntimeContext.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "getMetricGroup" -> metrics;
                        case "getExternalResourceInfos" -> Set.of();
                        case "getJobInfo" -> new JobInfoImpl(new JobID(), "close-test");
                        case "getTaskInfo" -> new TaskInfoImpl("inference", 1, 0, 1, 0);
                        default -> throw new UnsupportedOperationException(m.getName());
                    }));
            fn.open(DefaultOpenContext.INSTANCE);
            Out a = new Out();
            Out b = new Out();
            fn.asyncInvoke("a", a);
            fn.asyncInvoke("b", b);

            fn.close(); // the task is cancelled with both records in flight

            assertTrue(HandEngine.FUTURES.get("a").isCancelled(), "record a's engine request is withdrawn");
            assertTrue(HandEngine.FUTURES.get("b").isCancelled(), "record b's engine request is withdrawn");
            assertEquals(List.of(), a.all(), "a closed subtask emits nothing for its in-flight records");
            assertEquals(List.of(), b.all(), "a closed subtask emits nothing for its in-flight records");
            assertEquals(1, EngineRegistry.refCount(options.registryKey()), "the engine stays loaded for the other holder");
        } finally {
            other.close();
        }
        assertEquals(0, EngineRegistry.refCount(options.registryKey()));
    }
}
