package dev.quarry.jobs.cli;

import dev.quarry.jobs.EngineFactory;
import dev.quarry.jobs.StreamJob;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import java.util.concurrent.Callable;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quarry stream}: Kafka JSON records through Granite to an output topic, failures to a DLQ topic. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = {"Scores a Kafka topic of JSON records with a Granite model on an embedded Flink MiniCluster.",
                "Results go to --output-topic, failures (bad JSON, missing text, engine errors) to --dlq-topic.",
                "With --checkpoint-dir, a restarted process (same topics) resumes from the latest retained checkpoint of this job."})
public class StreamCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka brokers, host:port[,host:port...]") String bootstrapServers;
    @Option(names = "--input-topic", required = true, description = "Topic of JSON records to score (an object with the text field, see --text-field)") String inputTopic;
    @Option(names = "--output-topic", required = true, description = "Topic the results go to (JSON, the input's key and headers)") String outputTopic;
    @Option(names = "--dlq-topic", required = true, description = "Dead-letter topic: records that failed (unparseable input with its original bytes, engine errors)") String dlqTopic;
    @Option(names = "--group-id", description = "Kafka consumer group; a run without a checkpoint starts from its committed offsets (default: quarry-INPUT_TOPIC-OUTPUT_TOPIC, so jobs reading one topic into different outputs do not share a group)") String groupId;
    @Option(names = "--delivery", defaultValue = "exactly-once", description = "exactly-once or at-least-once (default: ${DEFAULT-VALUE})") String delivery;
    @Option(names = "--transactional-id-prefix", description = "Unique per job on the Kafka cluster (default: quarry-OUTPUT_TOPIC)") String txPrefix;
    @Option(names = "--kafka-property", description = "Any Kafka client property, k=v (repeatable): SASL, SSL, transaction.timeout.ms, ...") Map<String, String> kafkaProperties = new LinkedHashMap<>();
    @Option(names = "--checkpoint-dir", description = "Checkpoint directory (any Flink file system), shareable by jobs: each keeps its checkpoints in a folder named after its topics and resumes from the latest of its own") String checkpointDir;
    @Option(names = "--checkpoint-interval", defaultValue = "10s", description = "Checkpoint interval; results are committed at each (default: ${DEFAULT-VALUE})") String checkpointInterval;
    @Option(names = "--expected-restart", defaultValue = "2m", description = "Restart time incl. model load that transaction.timeout.ms must cover (default: ${DEFAULT-VALUE})") String expectedRestart;
    @Option(names = "--parallelism", defaultValue = "1", description = "Flink parallelism (default: ${DEFAULT-VALUE}); subtasks share one engine per JVM") int parallelism;
    @Option(names = "--bounded", description = "Stop at the input topic's end offsets as of start-up") boolean bounded;

    @Mixin ScoringOptions scoring = new ScoringOptions();

    private EngineFactory engines = EngineFactory.real();

    /** Uses another engine factory (tests run the command with a fake engine). */
    public StreamCommand withEngines(EngineFactory f) {
        this.engines = f;
        return this;
    }

    public StreamJob.Options options() {
        DeliveryGuarantee g = switch (delivery.toLowerCase(Locale.ROOT)) {
            case "exactly-once", "exactly_once" -> DeliveryGuarantee.EXACTLY_ONCE;
            case "at-least-once", "at_least_once" -> DeliveryGuarantee.AT_LEAST_ONCE;
            default -> throw new IllegalArgumentException("--delivery must be exactly-once or at-least-once, got '" + delivery + "'");
        };
        StreamJob.Options.Builder b = StreamJob.Options.builder().bootstrapServers(bootstrapServers).inputTopic(inputTopic)
                .outputTopic(outputTopic).dlqTopic(dlqTopic).groupId(groupId).delivery(g).transactionalIdPrefix(txPrefix)
                .checkpointDir(checkpointDir).checkpointInterval(ScoringOptions.duration(checkpointInterval, "--checkpoint-interval"))
                .expectedRestart(ScoringOptions.duration(expectedRestart, "--expected-restart"))
                .parallelism(parallelism).bounded(bounded).mapping(scoring.mapping()).spec(scoring.spec());
        kafkaProperties.forEach(b::kafkaProperty);
        return b.build();
    }

    /** How long the start-up check waits for the Kafka cluster to answer (system property {@code quarry.kafka.checkTimeoutMs}). */
    static Duration kafkaCheckTimeout() {
        return Duration.ofMillis(Long.getLong("quarry.kafka.checkTimeoutMs", 30_000L));
    }

    /** Fails in one line naming --bootstrap-servers when no broker there answers within {@link #kafkaCheckTimeout()}. */
    static void requireReachable(StreamJob.Options o) {
        Properties p = new Properties();
        o.kafkaProperties.forEach((k, v) -> { if (AdminClientConfig.configNames().contains(k)) p.put(k, v); });   // SASL, SSL, ...
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrapServers);
        long ms = kafkaCheckTimeout().toMillis();
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ms);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ms);
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) ms)).nodes().get(ms + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("--bootstrap-servers " + o.bootstrapServers + ": no Kafka broker answered within "
                    + ms / 1000 + " s (" + c.getClass().getSimpleName() + ": " + c.getMessage()
                    + "); check the address and any security settings (--kafka-property)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking --bootstrap-servers " + o.bootstrapServers, e);
        } catch (org.apache.kafka.common.KafkaException e) {   // e.g. an unresolvable address, a bad security property
            throw new IllegalArgumentException("--bootstrap-servers " + o.bootstrapServers + ": " + e.getMessage()
                    + (e.getCause() != null ? " (" + e.getCause().getMessage() + ")" : ""), e);
        }
    }

    /** What the run resumes from (or why it starts afresh), for the console. */
    public static String restoreMessage(StreamJob.Options o, Optional<org.apache.flink.core.fs.Path> restore) {
        if (o.checkpointDir == null) {
            return "quarry stream: no --checkpoint-dir: starting from the committed offsets of consumer group " + o.groupId
                    + " (earliest where it has none); checkpoints are not kept, so a restarted process starts again from those offsets";
        }
        org.apache.flink.core.fs.Path own = StreamJob.checkpointDirectory(o);
        if (restore.isPresent()) {
            return "quarry stream: resuming from checkpoint " + restore.get() + " (checkpoint " + StreamJob.checkpointNumber(restore.get())
                    + ", the latest completed one of this job's checkpoints in " + own + ": offsets of " + o.inputTopic
                    + ", in-flight records and pending transactions on " + o.outputTopic + " and " + o.dlqTopic + ")";
        }
        StringBuilder b = new StringBuilder("quarry stream: no checkpoint of this job in " + own
                + ": starting from the committed offsets of consumer group " + o.groupId + " (earliest where it has none)");
        StreamJob.latestCheckpoint(new org.apache.flink.core.fs.Path(o.checkpointDir)).ifPresent(legacy -> b.append(
                "\nquarry stream: NOT resuming from " + legacy + ": it lies directly under --checkpoint-dir (the layout of earlier"
                        + " versions) and cannot be told apart from other jobs' checkpoints; if it is this job's, move its job folder "
                        + legacy.getParent().getName() + " into " + own + " and start again"));
        return b.toString();
    }

    @Override
    public Integer call() throws Exception {
        StreamJob.Options o = options();
        Optional<org.apache.flink.core.fs.Path> restore = StreamJob.restorePoint(o);
        System.err.println(restoreMessage(o, restore));
        var env = StreamExecutionEnvironment.getExecutionEnvironment(StreamJob.configuration(o, restore));
        // the job runs in this process (not `flink run`, whose client need not reach Kafka): an unreachable broker
        // would otherwise leave the job waiting for metadata without a word
        if (!env.getClass().getName().equals("org.apache.flink.client.program.StreamContextEnvironment")) requireReachable(o);
        StreamJob.build(env, o, engines);
        System.err.println("quarry stream: " + o.spec + ", " + o.inputTopic + " -> " + o.outputTopic + " (dead letters: " + o.dlqTopic
                + "), consumer group " + o.groupId);
        env.execute(StreamJob.JOB_NAME);
        return 0;
    }
}
