package dev.quarry.connectors.kafka;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link KafkaTestBroker} per test class: {@code @RegisterExtension static final KafkaBrokerExtension BROKER =
 * new KafkaBrokerExtension();} starts it before the class's tests and closes it after them.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback {
    private KafkaTestBroker broker;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        broker = new KafkaTestBroker();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (broker != null) broker.close();
        broker = null;
    }

    /** The running broker (only between beforeAll and afterAll). */
    public KafkaTestBroker get() {
        if (broker == null) throw new IllegalStateException("the Kafka broker is not running (use it from a test)");
        return broker;
    }
}
