package dev.quarry.connectors.testing;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * The MiniCluster every Quarry ITCase runs on: one TaskManager with two slots, no restarts unless a job sets its own
 * strategy, no delegation tokens. Register it as {@code @RegisterExtension static final MiniClusterExtension
 * MINI_CLUSTER = FlinkTestCluster.miniCluster();}.
 */
public final class FlinkTestCluster {
    private FlinkTestCluster() {}

    /** The cluster configuration (a fresh copy; add to it and pass it to {@link #miniCluster(Configuration)}). */
    public static Configuration conf() {
        Configuration c = new Configuration();
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        c.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        return c;
    }

    public static MiniClusterExtension miniCluster() {
        return miniCluster(conf());
    }

    public static MiniClusterExtension miniCluster(Configuration c) {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setConfiguration(c).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());
    }
}
