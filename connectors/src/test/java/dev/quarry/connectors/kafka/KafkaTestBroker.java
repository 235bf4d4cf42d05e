package dev.quarry.connectors.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** A single-node in-JVM KRaft broker for tests, with produce / read-committed helpers. */
public final class KafkaTestBroker implements AutoCloseable {
    private final KafkaClusterTestKit cluster;

    public KafkaTestBroker() throws Exception {
        cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                        .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
    }

    public String bootstrap() {
        return cluster.bootstrapServers();
    }

    public void createTopics(int partitions, String... names) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String n : names) topics.add(new NewTopic(n, partitions, (short) 1));
            admin.createTopics(topics).all().get();
        }
    }

    /**
     * Writes the values (keys k0, k1, ...) in one Kafka transaction, retried as a whole if it fails (a
     * loaded 2-core machine can time out a send), so the topic holds each value exactly once.
     */
    public void produce(String topic, List<byte[]> values) {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap());
            p.put("key.serializer", ByteArraySerializer.class.getName());
            p.put("value.serializer", ByteArraySerializer.class.getName());
            p.put("transactional.id", "test-producer-" + topic + "-" + attempt);
            p.put("delivery.timeout.ms", "120000");
            try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p)) {
                prod.initTransactions();
                prod.beginTransaction();
                List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
                int i = 0;
                for (byte[] v : values) sent.add(prod.send(new ProducerRecord<>(topic, ("k" + i++).getBytes(StandardCharsets.UTF_8), v)));
                try {
                    for (java.util.concurrent.Future<?> f : sent) f.get();
                    prod.commitTransaction();
                    return;
                } catch (Exception e) {
                    prod.abortTransaction();
                    last = new IllegalStateException("producing test input to " + topic + " failed: " + e, e);
                }
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    /** All records of a topic visible to a consumer with the given isolation level. */
    public List<ConsumerRecord<byte[], byte[]>> readAll(String topic, String isolation) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("isolation.level", isolation);
        p.put("enable.auto.commit", "false");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                    .map(pi -> new TopicPartition(topic, pi.partition())).collect(Collectors.toList());
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 30_000;
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) throw new AssertionError("consumer did not catch up on " + topic);
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * Everything committed to a topic once its producers are done (the job ended): first waits until no open
     * transaction is left on any partition, i.e. the read_committed end offset (the last stable offset) has
     * caught up with the high watermark. Transaction markers are written after {@code commitTransaction}
     * returns, so reading right after a job finished could miss its last committed transaction.
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommittedAfterJob(String topic) {
        Map<TopicPartition, Long> stable = null, high = null;
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            stable = endOffsets(topic, "read_committed");
            high = endOffsets(topic, "read_uncommitted");
            if (stable.equals(high)) return readAll(topic, "read_committed");
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("transactions on " + topic + " still open after 60 s: last stable offsets " + stable + ", high watermarks " + high);
    }

    private Map<TopicPartition, Long> endOffsets(String topic, String isolation) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("isolation.level", isolation);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                    .map(pi -> new TopicPartition(topic, pi.partition())).collect(Collectors.toList());
            return Map.copyOf(c.endOffsets(parts));
        }
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
