package dev.quarry.jobs;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.kafka.QuarryKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Streaming inference: a Kafka topic of JSON records in, results to an output topic and failures
 * (unparseable records, engine errors) to a dead-letter topic.
 *
 * <p>Guarantee with {@code EXACTLY_ONCE} (the default): each input record yields exactly one committed
 * record across the output and dead-letter topics, for consumers reading with
 * {@code isolation.level=read_committed}, across task failures and process restarts that resume from a
 * retained checkpoint ({@code --checkpoint-dir}). Output becomes visible at each completed checkpoint.
 * {@code AT_LEAST_ONCE} may duplicate after a failure but shows output without waiting for checkpoints.
 *
 * <p>Run it with {@code quarry stream ...} or {@code flink run -c dev.quarry.jobs.StreamJob quarry-jobs.jar ...}.
 */
public final class StreamJob {
    public static final String JOB_NAME = "quarry stream";
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
    /** Restart delay + model load + restore that the transaction timeout must cover on top of the checkpoint interval. */
    public static final Duration DEFAULT_EXPECTED_RESTART = Duration.ofMinutes(2);
    public static final int DEFAULT_RESTART_ATTEMPTS = 10;
    public static final String RESULTS_TX_SUFFIX = "-results";
    public static final String DLQ_TX_SUFFIX = "-dlq";

    /** Everything a stream run needs; validated in {@link Builder#build()}. */
    public static final class Options implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        public final String bootstrapServers;
        public final String inputTopic;
        public final String outputTopic;
        public final String dlqTopic;
        public final String groupId;
        public final InputMapping mapping;
        public final ScoringSpec spec;
        public final DeliveryGuarantee delivery;
        public final String transactionalIdPrefix;
        public final Map<String, String> kafkaProperties;
        public final String checkpointDir;
        public final Duration checkpointInterval;
        public final Duration expectedRestart;
        public final int parallelism;
        public final boolean bounded;
        public final int restartAttempts;

        private Options(Builder b) {
            bootstrapServers = b.bootstrapServers;
            inputTopic = b.inputTopic;
            outputTopic = b.outputTopic;
            dlqTopic = b.dlqTopic;
            groupId = b.groupId != null && !b.groupId.isBlank() ? b.groupId : defaultGroupId(b.inputTopic, b.outputTopic);
            mapping = b.mapping;
            spec = b.spec;
            delivery = b.delivery;
            transactionalIdPrefix = b.transactionalIdPrefix != null ? b.transactionalIdPrefix : "quarry-" + b.outputTopic;
            kafkaProperties = Map.copyOf(b.kafkaProperties);
            checkpointDir = b.checkpointDir;
            checkpointInterval = b.checkpointInterval;
            expectedRestart = b.expectedRestart;
            parallelism = b.parallelism;
            bounded = b.bounded;
            restartAttempts = b.restartAttempts;
        }

        public static Builder builder() { return new Builder(); }

        public static final class Builder {
            private String bootstrapServers, inputTopic, outputTopic, dlqTopic, groupId, transactionalIdPrefix, checkpointDir;
            private InputMapping mapping = InputMapping.defaults();
            private ScoringSpec spec;
            private DeliveryGuarantee delivery = DeliveryGuarantee.EXACTLY_ONCE;
            private final Map<String, String> kafkaProperties = new LinkedHashMap<>();
            private Duration checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL;
            private Duration expectedRestart = DEFAULT_EXPECTED_RESTART;
            private int parallelism = 1;
            private boolean bounded;
            private int restartAttempts = DEFAULT_RESTART_ATTEMPTS;

            public Builder bootstrapServers(String v) { bootstrapServers = v; return this; }
            public Builder inputTopic(String v) { inputTopic = v; return this; }
            public Builder outputTopic(String v) { outputTopic = v; return this; }
            public Builder dlqTopic(String v) { dlqTopic = v; return this; }
            /**
             * Consumer group (offsets are also committed there on checkpoints; a job started without a checkpoint starts
             * from them); default {@code quarry-INPUT-OUTPUT}, see {@link #defaultGroupId}.
             */
            public Builder groupId(String v) { groupId = v; return this; }
            public Builder mapping(InputMapping v) { mapping = v; return this; }
            public Builder spec(ScoringSpec v) { spec = v; return this; }
            /** EXACTLY_ONCE (default; Kafka transactions committed on checkpoints) or AT_LEAST_ONCE. */
            public Builder delivery(DeliveryGuarantee v) { delivery = v; return this; }
            /** Unique per job on a Kafka cluster; default {@code quarry-OUTPUT}. */
            public Builder transactionalIdPrefix(String v) { transactionalIdPrefix = v; return this; }
            /** Passed to the consumer and both producers (SASL, SSL, transaction.timeout.ms, ...). */
            public Builder kafkaProperty(String k, String v) { kafkaProperties.put(k, v); return this; }
            /**
             * Where checkpoints are kept (retained on cancel and crash), in a folder of this job ({@link #checkpointDirectory});
             * a restart with the same dir and topics resumes from the latest of this job's checkpoints.
             */
            public Builder checkpointDir(String v) { checkpointDir = v; return this; }
            public Builder checkpointInterval(Duration v) { checkpointInterval = v; return this; }
            public Builder expectedRestart(Duration v) { expectedRestart = v; return this; }
            public Builder parallelism(int v) { parallelism = v; return this; }
            /** Stop at the input's end offsets as of start-up (batch-like runs and tests). */
            public Builder bounded(boolean v) { bounded = v; return this; }
            public Builder restartAttempts(int v) { restartAttempts = v; return this; }

            public Options build() {
                for (Map.Entry<String, String> e : Map.of("--bootstrap-servers", str(bootstrapServers), "--input-topic", str(inputTopic),
                        "--output-topic", str(outputTopic), "--dlq-topic", str(dlqTopic)).entrySet()) {
                    if (e.getValue().isBlank()) throw new IllegalArgumentException(e.getKey() + " must be set");
                }
                if (outputTopic.equals(dlqTopic)) throw new IllegalArgumentException("--output-topic and --dlq-topic must differ");
                if (inputTopic.equals(outputTopic) || inputTopic.equals(dlqTopic)) throw new IllegalArgumentException("--input-topic must differ from the output topics");
                Objects.requireNonNull(spec, "scoring spec");
                Objects.requireNonNull(delivery, "delivery");
                if (delivery == DeliveryGuarantee.NONE) throw new IllegalArgumentException("--delivery must be exactly-once or at-least-once");
                if (parallelism < 1) throw new IllegalArgumentException("--parallelism must be >= 1");
                if (checkpointInterval == null || checkpointInterval.toMillis() < 10) throw new IllegalArgumentException("--checkpoint-interval must be >= 10ms");
                Options o = new Options(this);
                if (delivery == DeliveryGuarantee.EXACTLY_ONCE) {
                    QuarryKafka.checkTransactionTimeout(QuarryKafka.transactionTimeout(o.kafkaProperties), checkpointInterval, expectedRestart);
                }
                return o;
            }

            private static String str(String s) { return s == null ? "" : s; }
        }
    }

    private StreamJob() {}

    /**
     * The default consumer group, {@code quarry-INPUT-OUTPUT}: two jobs reading the same topic into different output
     * topics get different groups, so neither the broker's partition assignment nor the committed offsets (where a
     * job without a checkpoint starts) are shared between unrelated jobs. (Before, the default was
     * {@code quarry-INPUT}; pass {@code --group-id quarry-INPUT} to keep such a group's offsets.)
     */
    public static String defaultGroupId(String inputTopic, String outputTopic) {
        return "quarry-" + inputTopic + "-" + outputTopic;
    }

    /**
     * The job's configuration: restart strategy, checkpoint storage under {@link #checkpointDirectory} retained
     * on cancellation, and (when that holds a completed checkpoint) the checkpoint to resume from.
     */
    public static Configuration configuration(Options o) {
        return configuration(o, restorePoint(o));
    }

    /** The job's configuration, resuming from {@code restore} when present (see {@link #restorePoint}). */
    public static Configuration configuration(Options o, Optional<Path> restore) {
        Configuration c = new Configuration();
        // the embedded MiniCluster would otherwise try Hadoop delegation tokens (Hadoop is only here for Parquet)
        c.set(org.apache.flink.configuration.SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, o.restartAttempts);
        c.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
        if (o.checkpointDir != null) {
            Path dir = checkpointDirectory(o);
            c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.makeQualified(fs(dir)).toString());
            c.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
            restore.ifPresent(p -> c.set(StateRecoveryOptions.SAVEPOINT_PATH, p.toString()));
        }
        return c;
    }

    /**
     * This job's checkpoint folder: {@code --checkpoint-dir}/{@link #jobKey}. Flink writes {@code <flink job id>/chk-N}
     * below it; one {@code --checkpoint-dir} can thus be shared by jobs over different topics, each restoring only
     * its own checkpoints. Null without {@code --checkpoint-dir}.
     */
    public static Path checkpointDirectory(Options o) {
        return o.checkpointDir == null ? null : new Path(new Path(o.checkpointDir), jobKey(o));
    }

    /**
     * The job's identity in the checkpoint directory: {@code stream-INPUT-OUTPUT-} plus a hash of the input, output
     * and dead-letter topics (a checkpoint holds offsets of the input topic and transactions on the output topics,
     * so it only fits a job over the same topics). Topic names are safe in paths; long ones are shortened.
     */
    public static String jobKey(Options o) {
        String id = o.inputTopic + "\n" + o.outputTopic + "\n" + o.dlqTopic;
        String hash;
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            hash = java.util.HexFormat.of().formatHex(d, 0, 6);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return "stream-" + shorten(o.inputTopic) + "-" + shorten(o.outputTopic) + "-" + hash;
    }

    private static String shorten(String topic) {
        return topic.length() <= 60 ? topic : topic.substring(0, 60);
    }

    /** The checkpoint this job resumes from: the latest completed one in {@link #checkpointDirectory}, if any. */
    public static Optional<Path> restorePoint(Options o) {
        return o.checkpointDir == null ? Optional.empty() : latestCheckpoint(checkpointDirectory(o));
    }

    /**
     * The most recent completed checkpoint ({@code dir/<flink job id>/chk-N} holding {@code _metadata}) under
     * {@code dir}, if any: the newest {@code _metadata}, the higher N on a tie.
     */
    public static Optional<Path> latestCheckpoint(Path dir) {
        try {
            FileSystem fs = fs(dir);
            if (!fs.exists(dir)) return Optional.empty();
            Path best = null;
            long bestTime = Long.MIN_VALUE, bestNumber = -1;
            for (FileStatus job : fs.listStatus(dir)) {
                if (!job.isDir()) continue;
                for (FileStatus chk : fs.listStatus(job.getPath())) {
                    if (!chk.isDir() || !chk.getPath().getName().startsWith("chk-")) continue;
                    Path meta = new Path(chk.getPath(), "_metadata");
                    if (!fs.exists(meta)) continue;
                    long t = fs.getFileStatus(meta).getModificationTime();
                    long n = checkpointNumber(chk.getPath());
                    if (t > bestTime || (t == bestTime && n > bestNumber)) {
                        bestTime = t;
                        bestNumber = n;
                        best = chk.getPath();
                    }
                }
            }
            return Optional.ofNullable(best);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look for checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** N of a {@code chk-N} path (-1 when not a number). */
    public static long checkpointNumber(Path chk) {
        try {
            return Long.parseLong(chk.getName().substring("chk-".length()));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static FileSystem fs(Path p) {
        try {
            return p.getFileSystem();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds the job to {@code env}. */
    public static void build(StreamExecutionEnvironment env, Options o, EngineFactory engines) {
        env.enableCheckpointing(o.checkpointInterval.toMillis());
        env.setParallelism(o.parallelism);
        var source = QuarryKafka.source().bootstrapServers(o.bootstrapServers).topic(o.inputTopic).groupId(o.groupId)
                .mapping(o.mapping).properties(o.kafkaProperties);
        if (o.bounded) source.boundedAt(OffsetsInitializer.latest());
        DataStream<InputRecord> input = env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "kafka:" + o.inputTopic).uid("kafka-input");
        DataStream<ResultRecord> results = ScoringPipeline.score(input, o.spec, engines);
        results.filter(r -> !r.isError()).name("succeeded")
                .sinkTo(QuarryKafka.sink().bootstrapServers(o.bootstrapServers).topic(o.outputTopic).oversizeResultsTo(o.dlqTopic).deliveryGuarantee(o.delivery)
                        .transactionalIdPrefix(o.transactionalIdPrefix + RESULTS_TX_SUFFIX).properties(o.kafkaProperties).build())
                .name("kafka:" + o.outputTopic).uid("kafka-results");
        results.filter(ResultRecord::isError).name("failed")
                .sinkTo(QuarryKafka.sink().bootstrapServers(o.bootstrapServers).topic(o.dlqTopic).deadLetters(true).deliveryGuarantee(o.delivery)
                        .transactionalIdPrefix(o.transactionalIdPrefix + DLQ_TX_SUFFIX).properties(o.kafkaProperties).build())
                .name("kafka:" + o.dlqTopic).uid("kafka-dlq");
    }

    /** {@code flink run} entry point; takes the same flags as {@code quarry stream}. */
    public static void main(String[] args) {
        int code = new picocli.CommandLine(new dev.quarry.jobs.cli.StreamCommand()).execute(args);
        if (code != 0) throw new IllegalStateException("stream failed with exit code " + code);
    }
}
