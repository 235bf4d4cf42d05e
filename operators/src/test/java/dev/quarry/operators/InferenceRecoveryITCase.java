package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoint and restore with records in flight: the engine crashes the task once mid-stream, Flink
 * restarts from the last checkpoint, Async I/O re-submits the records that were in flight, and the
 * exactly-once file sink ends with exactly one result per input.
 */
@Timeout(180)
class InferenceRecoveryITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(Records.clusterConf()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    /** Turns a number into a record; tells the fake engine when a checkpoint has completed. */
    static final class ToRecord implements MapFunction<Long, String>, CheckpointListener {
        @Override
        public String map(Long i) {
            return "s" + i + "=record text " + i;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            FakeEngine.CHECKPOINT_DONE.set(true);
        }
    }

    @Test
    void exactlyOneResultPerInputAfterACrashWithRecordsInFlight(@TempDir Path tmp) throws Exception {
        FakeEngine.reset();
        int n = 600;
        FakeEngine.CRASH_AT.set(350);
        Configuration jobConf = new Configuration();
        jobConf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        jobConf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        jobConf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(jobConf);
        env.setParallelism(2);
        env.enableCheckpointing(100);
        Path outDir = tmp.resolve("out");
        Records.operator(FakeEngine.factory(20)).capacity(5).uid("inference").build()
                .apply(env.fromSequence(0, n - 1).map(new ToRecord()))
                .sinkTo(FileSink.forRowFormat(new org.apache.flink.core.fs.Path(outDir.toUri()), new SimpleStringEncoder<String>()).build());
        env.execute("recovery");

        assertTrue(FakeEngine.CRASHED.get(), "the crash was injected (after a completed checkpoint)");
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.walk(outDir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                lines.addAll(Files.readAllLines(f));
            }
        }
        Set<String> ids = new HashSet<>(Records.ids(lines));
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < n; i++) expected.add("s" + i);
        assertEquals(n, lines.size(), "exactly one committed result per input (no duplicates)");
        assertEquals(expected, ids, "none missing");
        assertTrue(lines.stream().allMatch(l -> Records.status(l).equals("ok")), "no error results");
        assertTrue(FakeEngine.SUBMITTED.get() > n, "records were submitted again after the restore: " + FakeEngine.SUBMITTED.get());
        assertEquals(0, EngineRegistry.size(), "every engine released");
        assertEquals(FakeEngine.OPENS.get(), FakeEngine.CLOSES.get(), "every opened engine was closed");
    }
}
