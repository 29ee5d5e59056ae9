package io.digitstream.stream.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import kafka.server.KafkaRaftServer;

/**
 * A real single-node Kafka (KRaft, broker and controller in one) running in this JVM, for the demo
 * and the tests on machines without Docker. Its data survives a restart on the same directory.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final int PORT_ATTEMPTS = 5;

    private final KafkaRaftServer server;
    private final String bootstrapServers;

    private EmbeddedKafkaBroker(final KafkaRaftServer server, final String bootstrapServers) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
    }

    /** Formats {@code logDir} if it is new, starts the broker on free ports and waits until it answers. */
    public static EmbeddedKafkaBroker start(final Path logDir) {
        return start(logDir, 0);
    }

    /**
     * Formats {@code logDir} if it is new, starts the broker and waits until it answers.
     *
     * @param port the clients' port, or 0 for any free one
     */
    public static EmbeddedKafkaBroker start(final Path logDir, final int port) {
        return start(logDir, port, null);
    }

    /**
     * As {@link #start(Path, int)}; with {@code secure}, its one listener is SASL_SSL with ACLs
     * (docs/security.md).
     *
     * @param secure the TLS material and the super user, or null for a plain listener
     */
    public static EmbeddedKafkaBroker start(final Path logDir, final int port, final SecureKafka secure) {
        if (port != 0 && !isFree(port)) {
            throw new IllegalStateException("cannot start the embedded Kafka broker: port " + port + " is in use. "
                    + "If a Kafka runs there, use it with --bootstrap-servers localhost:" + port
                    + "; otherwise pick another port with --set embedded.broker.port=PORT");
        }
        RuntimeException last = null;
        for (int attempt = 1; attempt <= (port == 0 ? PORT_ATTEMPTS : 1); attempt++) {
            try {
                return startOnce(logDir, port == 0 ? freePort() : port, freePort(), secure);
            } catch (final RuntimeException e) {
                // Another process may have taken a port between probing and binding: try new ones.
                last = e;
                log.warn("Embedded Kafka did not start (attempt {}): {}", attempt, e.getMessage());
            }
        }
        throw last;
    }

    private static EmbeddedKafkaBroker startOnce(final Path logDir, final int brokerPort, final int controllerPort,
            final SecureKafka secure) {
        final long started = System.nanoTime();
        final Properties plain = KafkaNode.config(1, 1, "1@127.0.0.1:" + controllerPort, brokerPort, controllerPort,
                logDir);
        final Properties props = secure == null ? plain : secure.brokerConfig(plain, brokerPort, controllerPort);
        KafkaNode.format(logDir, props, Uuid.randomUuid().toString(),
                secure == null ? List.of() : secure.formatArguments());
        final KafkaRaftServer server = KafkaNode.start(props);
        final String bootstrap = "127.0.0.1:" + brokerPort;
        final EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, bootstrap);
        try {
            broker.awaitReady(secure == null ? Map.of() : secure.adminConfig());
        } catch (final RuntimeException e) {
            broker.close();
            throw e;
        }
        log.info("Embedded Kafka broker ready at {} in {} ms (data in {})", bootstrap,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), logDir);
        return broker;
    }

    private void awaitReady(final Map<String, Object> clientConfig) {
        final Map<String, Object> config = new HashMap<>(clientConfig);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(config)) {
            admin.describeCluster().nodes().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for embedded Kafka", e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("embedded Kafka did not answer within " + READY_TIMEOUT, e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    static boolean isFree(final int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (final IOException e) {
            return false;
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (final IOException e) {
            throw new UncheckedIOException("no free local port: " + e.getMessage(), e);
        }
    }
}
