package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quarry.connectors.Json;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.kafka.DeadLetterSerializer;
import dev.quarry.connectors.kafka.KafkaBrokerExtension;
import dev.quarry.connectors.testing.FlinkTestCluster;
import dev.quarry.engine.EngineStats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka -> Kafka exactly-once through the real DJL Granite engine on a tiny generated checkpoint (the prompt
 * task with short texts and two new tokens, so thousands of records stay affordable on a CPU), with three
 * task crashes injected at the points the issue names, each one by a condition checked at the moment of the
 * crash (not by timing), and each asserted to have happened:
 * <ol>
 *   <li>while a batch is inside the engine (the engine reports active sequences);</li>
 *   <li>after a checkpoint completed (a checkpoint newer than the one the job restored from);</li>
 *   <li>during a checkpoint (its {@code chk-N} directory exists without {@code _metadata}, N above the latest
 *       completed one).</li>
 * </ol>
 * A fixed-delay restart strategy recovers each time. The output and dead-letter topics, read with
 * read_committed after every transaction on them is closed, hold exactly one record per input id.
 */
@Timeout(900)
class RealEngineStreamITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @RegisterExtension
    static final KafkaBrokerExtension BROKER = new KafkaBrokerExtension();

    /** Checkpoint ids under {@code dir/<job key>/<flink job>/chk-N}: {@code [latest completed, latest in progress]} (-1 = none). */
    static long[] checkpoints(Path dir) {
        long completed = -1, started = -1;
        if (!Files.isDirectory(dir)) return new long[] {-1, -1};
        try (Stream<Path> s = Files.walk(dir, 3)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.startsWith("chk-")) continue;
                long id = Long.parseLong(name.substring(4));
                if (Files.exists(p.resolve("_metadata"))) completed = Math.max(completed, id);
                else started = Math.max(started, id);
            }
        } catch (Exception e) {
            // a directory vanished while listing (Flink subsumes old checkpoints): treat as no information now
            return new long[] {-1, -1};
        }
        return new long[] {completed, started > completed ? started : -1};
    }

    static void awaitFired(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (CrashingEngine.crashWhen.get() != null && System.nanoTime() < deadline) Thread.sleep(5);
    }

    @Test
    void kafkaToKafkaExactlyOnceWithCrashesInsideTheEngineAfterAndDuringCheckpoints(@TempDir Path tmp) throws Exception {
        Path model = RealEngine.checkpoint(tmp.resolve("cache"));
        String p = "real-eos";
        BROKER.get().createTopics(2, p + "-in", p + "-out", p + "-dlq");
        int n = 3000;
        List<byte[]> values = new ArrayList<>();
        String[] words = {"great", "awful", "fine", "slow", "fast", "broken", "lovely", "late"};
        for (int i = 0; i < n; i++) {
            String v = i % 600 == 13 ? "{broken json " + i
                    : i % 600 == 77 ? "{\"id\":\"r" + i + "\",\"text\":\"\"}"
                    : "{\"id\":\"r" + i + "\",\"text\":\"" + words[i % words.length] + " item " + i + "\",\"i\":" + i + "}";
            values.add(v.getBytes(StandardCharsets.UTF_8));
        }
        BROKER.get().produce(p + "-in", values);

        FakeEngine.SUBMITTED.set(0);
        FakeEngine.crashAt.set(0);
        FakeEngine.crashNow.set(false);
        CrashingEngine.CRASHES.clear();
        Path ckpt = tmp.resolve("ckpt");
        StreamJob.Options o = StreamJob.Options.builder().bootstrapServers(BROKER.get().bootstrap()).inputTopic(p + "-in")
                .outputTopic(p + "-out").dlqTopic(p + "-dlq")
                .spec(ScoringSpec.builder().task(TaskKind.PROMPT).template("{text}").maxNewTokens(2).modelDir(model).capacity(16).build())
                .checkpointDir(ckpt.toUri().toString()).checkpointInterval(Duration.ofMillis(300)).expectedRestart(Duration.ofSeconds(10))
                .kafkaProperty("transaction.timeout.ms", "120000").parallelism(2).bounded(true).restartAttempts(6).build();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(StreamJob.configuration(o));
        StreamJob.build(env, o, CrashingEngine.wrap(EngineFactory.real()));

        // 1: records inside the engine, once a first checkpoint exists (so the restore path is exercised)
        CrashingEngine.crashWhen.set(e -> {
            EngineStats s = e.inner().stats();
            return checkpoints(ckpt)[0] >= 1 && FakeEngine.SUBMITTED.get() >= 100 && e.outstanding() >= 4
                    ? "inside the engine (" + e.outstanding() + " requests in the engine, " + s.completedRequests() + " completed by it before)" : null;
        });
        CompletableFuture<Void> armer = CompletableFuture.runAsync(() -> {
            try {
                awaitFired(Duration.ofMinutes(5));
                // 2: after a checkpoint completed, once the job has restarted and made progress
                long base = checkpoints(ckpt)[0];
                int after1 = FakeEngine.SUBMITTED.get();
                CrashingEngine.crashWhen.set(e -> {
                    long[] c = checkpoints(ckpt);
                    return FakeEngine.SUBMITTED.get() >= after1 + 100 && c[0] > base ? "after checkpoint " + c[0] + " completed" : null;
                });
                awaitFired(Duration.ofMinutes(5));
                // 3: while a checkpoint is being taken (started, not completed), again after a restart and progress
                int after2 = FakeEngine.SUBMITTED.get();
                CrashingEngine.crashWhen.set(e -> {
                    long[] c = checkpoints(ckpt);
                    return FakeEngine.SUBMITTED.get() >= after2 + 100 && c[1] > 0
                            ? "during checkpoint " + c[1] + " (started, no _metadata; latest completed " + c[0] + ")" : null;
                });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            env.execute("stream-eos-real-engine");
        } finally {
            armer.cancel(true);
            CrashingEngine.crashWhen.set(null);
        }
        List<String> crashes = List.copyOf(CrashingEngine.CRASHES);
        assertEquals(3, crashes.size(), "all three crashes were injected before the input ran out: " + crashes);
        assertTrue(crashes.get(0).startsWith("inside the engine"), crashes.toString());
        assertTrue(crashes.get(1).startsWith("after checkpoint"), crashes.toString());
        assertTrue(crashes.get(2).startsWith("during checkpoint"), crashes.toString());
        assertTrue(FakeEngine.SUBMITTED.get() > n - 10, "records were replayed after the crashes: " + FakeEngine.SUBMITTED.get());

        Map<String, Integer> seen = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : BROKER.get().readCommittedAfterJob(p + "-out")) {
            JsonNode j = Json.MAPPER.readTree(r.value());
            String id = j.get("id").asText();
            seen.merge(id, 1, Integer::sum);
            assertTrue(j.get("text").isTextual() && j.get("error").isNull(), j.toString());
            assertTrue(j.get("generated_tokens").asInt() >= 1 && j.get("generated_tokens").asInt() <= 2, j.toString());
            assertEquals(Integer.parseInt(id.substring(1)), j.get("passthrough").get("i").asInt());
            assertTrue(j.get("lineage").get("model_hash").asText().length() > 8, j.toString());
        }
        Map<String, String> dlq = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : BROKER.get().readCommittedAfterJob(p + "-dlq")) {
            String id = new String(r.headers().lastHeader(DeadLetterSerializer.ID_HEADER).value(), StandardCharsets.UTF_8);
            seen.merge(id, 1, Integer::sum);
            dlq.put(id, new String(r.headers().lastHeader(DeadLetterSerializer.ERROR_KIND_HEADER).value(), StandardCharsets.UTF_8));
        }
        assertEquals(n, seen.size(), "one committed record per input, none missing");
        assertTrue(seen.values().stream().allMatch(c -> c == 1),
                "no duplicates: " + seen.entrySet().stream().filter(e -> e.getValue() > 1).limit(5).toList());
        assertEquals(10, dlq.size(), dlq.toString());
        assertEquals(5, dlq.values().stream().filter("invalid_record"::equals).count(), dlq.toString());
        assertEquals(5, dlq.values().stream().filter("empty_input"::equals).count(), dlq.toString());
        assertTrue(BROKER.get().readAll(p + "-out", "read_uncommitted").size() > n - dlq.size(),
                "the crashes aborted transactions that held results (read_uncommitted sees them)");
    }
}
