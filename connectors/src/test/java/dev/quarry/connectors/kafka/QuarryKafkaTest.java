package dev.quarry.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

/** Client properties (SASL, SSL, ...) reach the consumer and the producers; builders validate. */
class QuarryKafkaTest {
    static final Map<String, String> SECURITY = Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN",
            "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";",
            "ssl.truststore.location", "/etc/kafka/truststore.jks");

    static Properties field(Object o, String name) throws Exception {
        var f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return (Properties) f.get(o);
    }

    @Test
    void propertiesPassThroughToSourceAndSink() throws Exception {
        var source = QuarryKafka.source().bootstrapServers("b:9093").topic("in").properties(SECURITY).build();
        Properties sp = field(source, "props");
        SECURITY.forEach((k, v) -> assertEquals(v, sp.getProperty(k), k));
        assertEquals("read_committed", sp.getProperty("isolation.level"), "reads only committed input by default");

        var sink = QuarryKafka.sink().bootstrapServers("b:9093").topic("out").transactionalIdPrefix("p").properties(SECURITY).build();
        Properties kp = field(sink, "kafkaProducerConfig");
        SECURITY.forEach((k, v) -> assertEquals(v, kp.getProperty(k), k));
        assertEquals(Long.toString(QuarryKafka.DEFAULT_TRANSACTION_TIMEOUT.toMillis()), kp.getProperty("transaction.timeout.ms"));
    }

    @Test
    void exactlyOnceNeedsATransactionalIdPrefix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuarryKafka.sink().bootstrapServers("b:1").topic("out").deliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE).build());
        assertTrue(e.getMessage().contains("transactionalIdPrefix"), e.getMessage());
        QuarryKafka.sink().bootstrapServers("b:1").topic("out").deliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE).build();
        assertThrows(IllegalArgumentException.class, () -> QuarryKafka.source().topic("t").build());
    }
}
