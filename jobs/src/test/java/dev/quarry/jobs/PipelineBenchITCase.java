package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.testing.FlinkTestCluster;
import java.nio.file.Path;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline benchmark harness produces both runs over the same records (no timing is asserted). */
@Timeout(120)
class PipelineBenchITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @Test
    void bothRunsScoreTheSameRecordsThroughTheRealEngine(@TempDir Path tmp) throws Exception {
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).maxNewTokens(4).modelDir(RealEngine.checkpoint(tmp.resolve("cache"))).build();
        PipelineBench.Report r = PipelineBench.run(spec, EngineFactory.real(), PipelineBench.texts(16, 10), 1, tmp, 2, System.err);
        assertEquals(2, r.engineAlone().size());
        assertEquals(2, r.pipeline().size());
        for (int i = 0; i < 2; i++) {
            PipelineBench.Run alone = r.engineAlone().get(i), pipe = r.pipeline().get(i);
            assertEquals(16, alone.records());
            assertEquals(16, pipe.records());
            assertEquals(alone.promptTokens(), pipe.promptTokens(), "same prompts in both runs");
            assertEquals(alone.generatedTokens(), pipe.generatedTokens(), "greedy decoding: same generated tokens in both runs");
            assertTrue(pipe.window().compareTo(pipe.wall()) <= 0, "the engine window lies inside the pipeline's wall time");
            assertTrue(!alone.window().isZero() && !pipe.window().isZero());
        }
        assertTrue(r.render().contains("pipeline / engine alone"), r.render());
    }
}
