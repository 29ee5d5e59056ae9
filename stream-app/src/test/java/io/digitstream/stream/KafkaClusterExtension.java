package io.digitstream.stream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

import io.digitstream.releases.Replication;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.EmbeddedKafkaBroker;
import io.digitstream.stream.service.TopicSetup;

/**
 * One real Kafka broker for the whole test JVM: a Testcontainers {@code apache/kafka} when Docker
 * answers, otherwise the embedded KRaft broker, with the app's topics made as the app makes them
 * (a client's test may run before any app). Stopped when the JVM's tests are done.
 */
public final class KafkaClusterExtension implements BeforeAllCallback {

    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";

    private static String bootstrapServers;

    @Override
    public void beforeAll(final ExtensionContext context) throws IOException {
        synchronized (KafkaClusterExtension.class) {
            if (bootstrapServers != null) {
                return;
            }
            final ExtensionContext.Store store = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL);
            if (DockerClientFactory.instance().isDockerAvailable()) {
                final KafkaContainer container = new KafkaContainer(KAFKA_IMAGE);
                container.start();
                store.put("kafka", (ExtensionContext.Store.CloseableResource) container::stop);
                bootstrapServers = container.getBootstrapServers();
            } else {
                final Path dir = Files.createTempDirectory("embedded-kafka-test");
                final EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir);
                store.put("kafka", (ExtensionContext.Store.CloseableResource) () -> {
                    broker.close();
                    Utils.delete(dir.toFile()); // about 50 MB of logs per test run
                });
                bootstrapServers = broker.bootstrapServers();
            }
            TopicSetup.ensureTopics(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                    Integer.parseInt(AppConfig.DEFAULTS.get(AppConfig.PARTITIONS)), Replication.FOLLOW_CLUSTER);
        }
    }

    public static String bootstrapServers() {
        return bootstrapServers;
    }
}
