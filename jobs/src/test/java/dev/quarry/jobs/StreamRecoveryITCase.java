package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.kafka.DeadLetterSerializer;
import dev.quarry.connectors.kafka.KafkaBrokerExtension;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once across a savepoint restore at another parallelism and across a SIGKILLed {@code quarry stream}
 * process, both through the real DJL engine on a tiny generated checkpoint (the prompt task with two new
 * tokens keeps it affordable on a CPU).
 */
@Timeout(900)
class StreamRecoveryITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @RegisterExtension
    static final KafkaBrokerExtension BROKER = new KafkaBrokerExtension();

    static void produce(String topic, int n) {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String v = i % 250 == 3 ? "not json " + i : "{\"id\":\"r" + i + "\",\"text\":\"record " + i + "\"}";
            values.add(v.getBytes(StandardCharsets.UTF_8));
        }
        BROKER.get().produce(topic, values);
    }

    /** id -> committed copies across output and dead-letter topics. */
    static Map<String, Integer> committed(String out, String dlq) throws Exception {
        Map<String, Integer> seen = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : BROKER.get().readAll(out, "read_committed")) {
            seen.merge(dev.quarry.connectors.Json.MAPPER.readTree(r.value()).get("id").asText(), 1, Integer::sum);
        }
        for (ConsumerRecord<byte[], byte[]> r : BROKER.get().readAll(dlq, "read_committed")) {
            seen.merge(new String(r.headers().lastHeader(DeadLetterSerializer.ID_HEADER).value(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
        return seen;
    }

    static Map<String, Integer> awaitCommitted(String out, String dlq, int atLeast, Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        Map<String, Integer> seen = committed(out, dlq);
        while (seen.size() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(300);
            seen = committed(out, dlq);
        }
        return seen;
    }

    static void assertExactlyOnce(Map<String, Integer> seen, int n) {
        assertEquals(n, seen.size(), "every input committed");
        assertTrue(seen.values().stream().allMatch(c -> c == 1),
                "duplicates: " + seen.entrySet().stream().filter(e -> e.getValue() > 1).limit(5).toList());
    }

    StreamJob.Options options(String p, Path tmp, int parallelism, String checkpointDir) {
        return StreamJob.Options.builder().bootstrapServers(BROKER.get().bootstrap()).inputTopic(p + "-in").outputTopic(p + "-out")
                .dlqTopic(p + "-dlq").spec(ScoringSpec.builder().task(TaskKind.PROMPT).template("{text}").maxNewTokens(2)
                        .modelDir(RealEngine.checkpoint(tmp.resolve("cache"))).capacity(8).build())
                .checkpointDir(checkpointDir).checkpointInterval(Duration.ofMillis(200)).expectedRestart(Duration.ofSeconds(5))
                .kafkaProperty("transaction.timeout.ms", "30000").parallelism(parallelism).restartAttempts(0).build();
    }

    @Test
    void savepointRestoreAtAnotherParallelismKeepsExactlyOnce(@TempDir Path tmp) throws Exception {
        String p = "sp" + System.nanoTime();
        BROKER.get().createTopics(4, p + "-in", p + "-out", p + "-dlq");
        int n = 1500;
        produce(p + "-in", n);

        StreamJob.Options o1 = options(p, tmp, 2, null);
        StreamExecutionEnvironment env1 = StreamExecutionEnvironment.getExecutionEnvironment(StreamJob.configuration(o1));
        StreamJob.build(env1, o1, EngineFactory.real());
        JobClient job1 = env1.executeAsync("before-savepoint");
        Map<String, Integer> part = awaitCommitted(p + "-out", p + "-dlq", 200, Duration.ofSeconds(300));
        assertTrue(part.size() >= 200 && part.size() < n, "stopped mid-stream: " + part.size());
        String savepoint = job1.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get();

        StreamJob.Options o2 = options(p, tmp, 1, null);
        Configuration c2 = StreamJob.configuration(o2);
        c2.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        StreamExecutionEnvironment env2 = StreamExecutionEnvironment.getExecutionEnvironment(c2);
        StreamJob.build(env2, o2, EngineFactory.real());
        JobClient job2 = env2.executeAsync("after-savepoint");
        try {
            assertExactlyOnce(awaitCommitted(p + "-out", p + "-dlq", n, Duration.ofSeconds(400)), n);
        } finally {
            job2.cancel().get();
        }
    }

    @Test
    void sigkilledStreamProcessResumesFromItsRetainedCheckpoint(@TempDir Path tmp) throws Exception {
        String p = "kill" + System.nanoTime();
        BROKER.get().createTopics(2, p + "-in", p + "-out", p + "-dlq");
        int n = 1500;
        produce(p + "-in", n);
        Path ckpt = tmp.resolve("ckpt");
        Path model = RealEngine.checkpoint(tmp.resolve("cache"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), dev.quarry.jobs.cli.QuarryCli.class.getName(), "stream",
                "--bootstrap-servers", BROKER.get().bootstrap(), "--input-topic", p + "-in", "--output-topic", p + "-out", "--dlq-topic", p + "-dlq",
                "--task", "prompt", "--template", "{text}", "--max-new-tokens", "2", "--capacity", "8",
                "--model", model.toString(), "--checkpoint-dir", ckpt.toUri().toString(),
                "--checkpoint-interval", "300ms", "--expected-restart", "5s", "--kafka-property", "transaction.timeout.ms=30000",
                "--parallelism", "2"));
        Path logs = Path.of(System.getProperty("java.io.tmpdir"), "stream-recovery-logs");
        Files.createDirectories(logs);
        File log1 = logs.resolve(p + "-run1.log").toFile();
        Process first = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log1).start();
        try {
            Map<String, Integer> part = awaitCommitted(p + "-out", p + "-dlq", 200, Duration.ofSeconds(300));
            if (part.size() < 200) assertTrue(false, "first run made no progress: " + part.size() + "\n" + tail(log1.toPath()) + "\n" + threadDump(first));
            assertTrue(part.size() < n, "killed mid-stream");
            System.err.println("killing the first quarry stream process after " + part.size() + " committed records");
        } finally {
            first.destroyForcibly();   // SIGKILL
            first.waitFor();
        }
        assertTrue(StreamJob.restorePoint(options(p, tmp, 2, ckpt.toUri().toString())).isPresent(), "a retained checkpoint of this job");

        File log2 = logs.resolve(p + "-run2.log").toFile();
        Process second = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log2).start();
        try {
            Map<String, Integer> seen = awaitCommitted(p + "-out", p + "-dlq", n, Duration.ofSeconds(400));
            String log = tail(log2.toPath()) + (seen.size() < n ? "\n" + threadDump(second) : "");
            assertEquals(n, seen.size(), "every input committed after the restart; second run's log:\n" + log);
            assertExactlyOnce(seen, n);
            assertTrue(Files.readString(log2.toPath()).contains("resuming from checkpoint"), log);
        } finally {
            second.destroyForcibly();
            second.waitFor();
        }
    }

    /** jcmd Thread.print of a child process, for diagnosing a stuck run. */
    static String threadDump(Process p) {
        try {
            Process j = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(p.pid()), "Thread.print")
                    .redirectErrorStream(true).start();
            String out = new String(j.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            j.waitFor();
            return out.length() < 20000 ? out : out.substring(0, 20000);
        } catch (Exception e) {
            return "no thread dump: " + e;
        }
    }

    static String tail(Path log) throws Exception {
        String s = Files.readString(log);
        return s.length() < 6000 ? s : s.substring(s.length() - 6000);
    }
}
