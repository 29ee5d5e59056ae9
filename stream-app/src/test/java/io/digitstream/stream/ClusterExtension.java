package io.digitstream.stream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.digitstream.stream.service.EmbeddedKafkaCluster;

/**
 * A real Kafka cluster of several nodes for each test, each node a process of its own (the cluster
 * {@code stream-app broker --nodes N} runs), so a test can kill one; stopped and deleted after the
 * test. Register it with {@code @RegisterExtension}; tests named in {@code without} get none.
 */
public final class ClusterExtension implements BeforeEachCallback, AfterEachCallback {

    private final int nodes;
    private final String without;
    private EmbeddedKafkaCluster cluster;
    private Path dir;

    /**
     * @param nodes   nodes of the cluster
     * @param without the prefix of test method names that start no cluster, or null
     */
    public ClusterExtension(final int nodes, final String without) {
        this.nodes = nodes;
        this.without = without;
    }

    @Override
    public void beforeEach(final ExtensionContext context) throws IOException {
        if (without != null && context.getRequiredTestMethod().getName().startsWith(without)) {
            return;
        }
        dir = Files.createTempDirectory("kafka-cluster-test");
        cluster = EmbeddedKafkaCluster.start(dir, nodes, 0);
    }

    @Override
    public void afterEach(final ExtensionContext context) throws IOException {
        if (cluster != null) {
            cluster.close();
            cluster = null;
            Utils.delete(dir.toFile());
        }
    }

    /** The current test's cluster. */
    public EmbeddedKafkaCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException("this test has no cluster");
        }
        return cluster;
    }

    public String bootstrapServers() {
        return cluster().bootstrapServers();
    }
}
