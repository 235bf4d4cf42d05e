package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultSchema.TaskKind;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline benchmark harness produces both runs over the same records (no timing is asserted). */
@Timeout(120)
class PipelineBenchITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(conf()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static Configuration conf() {
        Configuration c = new Configuration();
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        c.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        return c;
    }

    @Test
    void bothRunsScoreTheSameRecords(@TempDir Path tmp) throws Exception {
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).maxNewTokens(4).modelDir(tmp).build();
        PipelineBench.Report r = PipelineBench.run(spec, SchedulerEngine.factory(), PipelineBench.texts(40, 10), 1, tmp);
        assertEquals(40, r.engineAlone().records());
        assertEquals(40, r.pipeline().records());
        assertEquals(r.engineAlone().promptTokens(), r.pipeline().promptTokens(), "same prompts in both runs");
        assertTrue(r.render().contains("pipeline / engine alone"));
    }
}
