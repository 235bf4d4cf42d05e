package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Bulk classify and summarize through the real scheduler and tasks (toy model), with an induced crash. */
@Timeout(300)
class SchedulerBulkScoreITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @Test
    void classifyAndSummarizeThroughTheScheduler(@TempDir Path tmp) throws Exception {
        Path in = RealEngineJobsITCase.sample(tmp.resolve("data"), 120);
        for (TaskKind task : List.of(TaskKind.CLASSIFY, TaskKind.SUMMARIZE)) {
            ScoringSpec spec = ScoringSpec.builder().task(task).labels(List.of("positive", "negative", "neutral"))
                    .maxNewTokens(6).modelDir(tmp).build();
            BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve(task.wireName()).toString())
                    .mapping(InputMapping.builder().idField("id").textField("text").build()).spec(spec).parallelism(2)
                    .checkpointInterval(Duration.ofMillis(300)).build();
            BulkScoreRunner.Summary s = BulkScoreRunner.run(o, SchedulerEngine.factory(), System.err, false);
            assertEquals(120, s.results().rows(), s.render());
            assertEquals(120, new HashSet<>(ResultFiles.ids(new org.apache.flink.core.fs.Path(s.output()))).size());
            for (Map<String, Object> r : ResultFiles.read(new org.apache.flink.core.fs.Path(o.output), 120)) {
                assertEquals("toy-weights-hash", r.get("model_hash"));
                assertTrue((Integer) r.get("prompt_tokens") > 0, r.toString());
                assertNotNull(r.get("decoding"));
                if (task == TaskKind.CLASSIFY) {
                    assertTrue(Set.of("positive", "negative", "neutral").contains(r.get("label")), r.toString());
                    @SuppressWarnings("unchecked")
                    Map<String, Double> p = (Map<String, Double>) r.get("probabilities");
                    assertEquals(3, p.size());
                    assertEquals(1.0, p.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-3);
                } else {
                    int g = (Integer) r.get("generated_tokens");
                    assertTrue(g >= 1 && g <= 6, r.toString());
                    assertNotNull(r.get("text"));
                }
            }
        }
    }
}
