package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.checkpoint.CheckpointMaker;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import dev.quarry.engine.task.TaskResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator through the real DJL engine on a tiny random-weight checkpoint made by the test: results
 * equal the engine's own answers for the same inputs (greedy decoding does not depend on batching or on
 * Flink), lineage carries the checkpoint's weights hash, an empty record is an error result, and the two
 * subtasks share one engine.
 */
@Timeout(300)
class RealEngineInferenceITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(Records.clusterConf()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static final AtomicInteger OPENS = new AtomicInteger();
    static Path model;

    @BeforeAll
    static void makeCheckpoint() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(tmp);
        model = Files.createTempDirectory(tmp, "tiny-hybrid");
        CheckpointMaker.make("tiny-hybrid", 7, model, "f32", 1);
    }

    static List<String> inputs() {
        List<String> in = new ArrayList<>();
        String[] texts = {"The river rose overnight and the bridge closed.", "Great coffee, slow service.",
            "Quarterly revenue grew four percent.", "I would not buy this again.", "Snow is expected on Tuesday.",
            "The match ended in a draw.", "Battery life is excellent.", "Parliament passed the budget."};
        for (int i = 0; i < texts.length; i++) in.add("d" + i + "=" + texts[i]);
        in.add("empty=");
        return in;
    }

    static String output(String record, TaskResult r, Lineage l) {
        return String.join("|", r.id(), r.isError() ? r.error().kind().wireName() : "ok", String.valueOf(r.text()),
                String.valueOf(r.label()), l.weightsHash(), l.modelName(), l.task());
    }

    static Map<String, String[]> run(TaskSupplier task) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        OPENS.set(0);
        EngineFactory counting = o -> {
            OPENS.incrementAndGet();
            return Engine.open(o);
        };
        List<String> out = InferenceOperator.<String, String>builder().task(task)
                .engineOptions(EngineOptions.builder().modelDir(model).build()).engineFactory(counting)
                .inputMapper(Records::toInput).resultMapper(RealEngineInferenceITCase::output).outputType(Types.STRING)
                .unordered().capacity(4).build()
                .apply(env.fromData(inputs()).rebalance()).executeAndCollect(100);
        Map<String, String[]> byId = new TreeMap<>();
        for (String o : out) byId.put(o.split("\\|", -1)[0], o.split("\\|", -1));
        assertEquals(inputs().size(), out.size(), "one result per input: " + out);
        assertEquals(inputs().size(), byId.size());
        assertEquals(1, OPENS.get(), "both subtasks share one engine");
        assertEquals(0, EngineRegistry.size(), "released after the job");
        return byId;
    }

    /** The engine alone, on the same inputs. */
    static Map<String, TaskResult> alone(Task task) throws Exception {
        Map<String, TaskResult> out = new TreeMap<>();
        try (Engine e = Engine.open(EngineOptions.builder().modelDir(model).build())) {
            for (String r : inputs()) {
                TaskInput in = Records.toInput(r);
                out.put(in.id(), e.submit(task, in).get());
            }
            out.put("#hash", new TaskResult("#hash", "x", e.modelInfo().weightsHash(), null, null, null, null, 0, 0, null, 0, null));
        }
        return out;
    }

    @Test
    void summarizeEqualsTheEngineAlone() throws Exception {
        TaskSupplier task = () -> SummarizeTask.builder().maxTokens(5).build();
        Map<String, String[]> flink = run(task);
        Map<String, TaskResult> direct = alone(task.get());
        String hash = direct.get("#hash").text();
        assertNotNull(hash);
        for (String r : inputs()) {
            String id = Records.toInput(r).id();
            String[] f = flink.get(id);
            assertEquals(hash, f[4], "lineage weights hash of " + id);
            assertEquals("summarize", f[6]);
            if (id.equals("empty")) {
                assertEquals("empty_input", f[1], "an empty record is an error result, the job goes on");
                continue;
            }
            assertEquals("ok", f[1], String.join("|", f));
            assertEquals(direct.get(id).text(), f[2], "record " + id + " through Flink equals the engine alone");
        }
    }

    @Test
    void classifyEqualsTheEngineAlone() throws Exception {
        TaskSupplier task = () -> ClassifyTask.builder().labels(List.of("positive", "negative", "neutral")).build();
        Map<String, String[]> flink = run(task);
        Map<String, TaskResult> direct = alone(task.get());
        for (String r : inputs()) {
            String id = Records.toInput(r).id();
            if (id.equals("empty")) continue;
            String[] f = flink.get(id);
            assertEquals("ok", f[1], String.join("|", f));
            assertFalse(f[3].equals("null"), "a label: " + String.join("|", f));
            assertEquals(direct.get(id).label(), f[3], "record " + id);
        }
        assertTrue(List.of("positive", "negative", "neutral").contains(flink.get("d0")[3]));
    }
}
