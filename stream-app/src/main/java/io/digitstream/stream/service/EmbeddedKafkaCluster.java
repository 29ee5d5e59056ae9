package io.digitstream.stream.service;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka cluster of several KRaft nodes on localhost, each node in a JVM of its own (see
 * {@link KafkaNode}), so that one can be killed with a real SIGKILL and started again on its data.
 * The nodes exit with the process that started them. Its layout (cluster id, ports) is kept in
 * its directory, so a second start on the same directory is the same cluster.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    static final String LAYOUT_FILE = "cluster.properties";

    private final Path dir;
    private final String clusterId;
    private final int[] brokerPorts;
    private final int[] controllerPorts;
    private final Process[] processes;
    /** Set by {@link #restartNodesThatEnd}: what to tell when a node ended and came back. */
    private volatile Consumer<String> onRestart;
    private volatile boolean closing;

    private EmbeddedKafkaCluster(final Path dir, final String clusterId, final int[] brokerPorts,
            final int[] controllerPorts) {
        this.dir = dir;
        this.clusterId = clusterId;
        this.brokerPorts = brokerPorts;
        this.controllerPorts = controllerPorts;
        this.processes = new Process[brokerPorts.length];
    }

    /**
     * Starts {@code nodes} nodes with their data under {@code dir} and waits until every one serves.
     *
     * @param firstPort the first node's client port, the others' following it; 0 for free ports
     */
    public static EmbeddedKafkaCluster start(final Path dir, final int nodes, final int firstPort) {
        if (nodes < 1) {
            throw new IllegalArgumentException("a cluster has at least one node, got " + nodes);
        }
        final EmbeddedKafkaCluster cluster = layout(dir, nodes, firstPort);
        final long started = System.nanoTime();
        try {
            for (int node = 1; node <= nodes; node++) {
                cluster.launch(node);
            }
            cluster.awaitNodes(IntStream.rangeClosed(1, nodes).boxed().collect(Collectors.toSet()));
        } catch (final RuntimeException e) {
            cluster.close();
            throw e;
        }
        log.info("Kafka cluster of {} nodes ready at {} in {} ms (data in {})", nodes, cluster.bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), dir);
        return cluster;
    }

    /** The cluster kept in {@code dir}, or a new one with ports from {@code firstPort} (or free ones). */
    private static EmbeddedKafkaCluster layout(final Path dir, final int nodes, final int firstPort) {
        final Path file = dir.resolve(LAYOUT_FILE);
        final Properties kept = new Properties();
        try {
            Files.createDirectories(dir);
            if (Files.exists(file)) {
                try (InputStream in = Files.newInputStream(file)) {
                    kept.load(in);
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read the cluster's layout in " + file + ": " + e.getMessage(), e);
        }
        int[] controllers = ports(kept.getProperty("controller.ports"));
        int[] brokers = ports(kept.getProperty("broker.ports"));
        if (controllers.length > 0 && controllers.length != nodes) {
            throw new IllegalArgumentException(dir + " holds a cluster of " + controllers.length
                    + " nodes: start it with --nodes " + controllers.length + ", or use another --dir");
        }
        if (firstPort != 0) {
            brokers = IntStream.range(0, nodes).map(i -> firstPort + i).toArray();
        } else if (brokers.length == 0) {
            brokers = IntStream.range(0, nodes).map(i -> EmbeddedKafkaBroker.freePort()).toArray();
        }
        if (controllers.length == 0) {
            controllers = IntStream.range(0, nodes).map(i -> EmbeddedKafkaBroker.freePort()).toArray();
        }
        for (final int port : concat(brokers, controllers)) {
            if (!EmbeddedKafkaBroker.isFree(port)) {
                throw new IllegalStateException("cannot start the Kafka cluster: port " + port + " is in use. "
                        + "Is it running already? Otherwise pick other client ports with --port PORT");
            }
        }
        final String clusterId = kept.getProperty("cluster.id", Uuid.randomUuid().toString());
        final Properties layout = new Properties();
        layout.setProperty("cluster.id", clusterId);
        layout.setProperty("broker.ports", join(brokers));
        layout.setProperty("controller.ports", join(controllers));
        try (OutputStream out = Files.newOutputStream(file)) {
            layout.store(out, "Kafka cluster layout, kept between runs");
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot keep the cluster's layout in " + file + ": " + e.getMessage(), e);
        }
        return new EmbeddedKafkaCluster(dir, clusterId, brokers, controllers);
    }

    /** Starts node {@code node}'s process (1-based) on its settings and data. */
    private void launch(final int node) {
        final String voters = IntStream.rangeClosed(1, controllerPorts.length)
                .mapToObj(n -> n + "@127.0.0.1:" + controllerPorts[n - 1]).collect(Collectors.joining(","));
        final Properties config = KafkaNode.config(node, brokerPorts.length, voters, brokerPorts[node - 1],
                controllerPorts[node - 1], dir.resolve("node-" + node));
        final Path settings = dir.resolve("node-" + node + ".properties");
        try {
            try (OutputStream out = Files.newOutputStream(settings)) {
                config.store(out, "Kafka node " + node);
            }
            final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            processes[node - 1] = new ProcessBuilder(List.of(java, "-Xmx512m", "-cp",
                    System.getProperty("java.class.path"), KafkaNode.class.getName(), settings.toString(), clusterId))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log(node).toFile()))
                    .start();
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot start Kafka node " + node + ": " + e.getMessage(), e);
        }
    }

    /** Waits until each of {@code nodes} is registered and unfenced, or says which did not come up. */
    private void awaitNodes(final Set<Integer> nodes) {
        final long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                5_000))) {
            while (true) {
                for (final int node : nodes) {
                    if (!processes[node - 1].isAlive()) {
                        throw new IllegalStateException("Kafka node " + node + " ended while starting (exit code "
                                + processes[node - 1].exitValue() + "); its log " + log(node) + " ends:\n"
                                + tail(log(node)));
                    }
                }
                try {
                    final Set<Integer> up = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).stream()
                            .map(Node::id).collect(Collectors.toSet());
                    if (up.containsAll(nodes)) {
                        return;
                    }
                } catch (final Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for the Kafka cluster", e);
                    }
                    // Not up yet: ask again.
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka nodes " + nodes + " did not all serve within "
                            + START_TIMEOUT + "; see their logs in " + dir);
                }
                Thread.sleep(200);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Kafka cluster", e);
        }
    }

    public String bootstrapServers() {
        return Arrays.stream(brokerPorts).mapToObj(port -> "127.0.0.1:" + port).collect(Collectors.joining(","));
    }

    public int size() {
        return brokerPorts.length;
    }

    /** The process id of node {@code node} (1-based), while it runs. */
    public long pid(final int node) {
        return processes[node - 1].pid();
    }

    public boolean isRunning(final int node) {
        return processes[node - 1] != null && processes[node - 1].isAlive();
    }

    /** Kills node {@code node} with SIGKILL and waits until its process is gone. */
    public void kill(final int node) throws InterruptedException {
        processes[node - 1].destroyForcibly().waitFor();
    }

    /** Starts a stopped or killed node again on its data, and waits until it serves. */
    public void restart(final int node) {
        if (isRunning(node)) {
            throw new IllegalStateException("Kafka node " + node + " runs already");
        }
        launch(node);
        awaitNodes(Set.of(node));
    }

    /**
     * From now on, a node whose process ends while the cluster is not closing (a SIGKILL, a crash) is
     * started again on its data, as a supervisor would, so one node can be killed and the cluster
     * watched as it recovers. {@code say} hears when a node ended and when it serves again.
     */
    public void restartNodesThatEnd(final Consumer<String> say) {
        this.onRestart = say;
        for (int node = 1; node <= processes.length; node++) {
            watch(node);
        }
    }

    private void watch(final int node) {
        final Process process = processes[node - 1];
        process.onExit().thenRunAsync(() -> {
            final Consumer<String> say = onRestart;
            if (closing || say == null || processes[node - 1] != process) {
                return;
            }
            say.accept("Kafka node " + node + " (pid " + process.pid() + ") ended with exit code "
                    + process.exitValue() + "; starting it again on its data");
            final long started = System.nanoTime();
            try {
                launch(node);
                awaitNodes(Set.of(node));
                say.accept("Kafka node " + node + " serves again (pid " + pid(node) + ") after "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
            } catch (final RuntimeException e) {
                if (!closing) {
                    say.accept("Kafka node " + node + " did not start again: " + e.getMessage());
                }
            }
            if (!closing) {
                watch(node);
            }
        });
    }

    /** Stops every node with SIGTERM (a controlled shutdown, all at once), then SIGKILL what is left. */
    @Override
    public void close() {
        closing = true;
        final List<Process> running = new ArrayList<>();
        for (final Process process : processes) {
            if (process != null && process.isAlive()) {
                process.toHandle().destroy();
                running.add(process);
            }
        }
        final long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (final Process process : running) {
            try {
                if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    log.warn("Kafka node process {} did not stop within {}: killing it", process.pid(), STOP_TIMEOUT);
                    process.destroyForcibly().waitFor();
                }
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private Path log(final int node) {
        return dir.resolve("node-" + node + ".log");
    }

    private static String tail(final Path file) {
        try {
            final List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (final IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static int[] ports(final String list) {
        return list == null || list.isBlank() ? new int[0]
                : Arrays.stream(list.split(",")).mapToInt(port -> Integer.parseInt(port.strip())).toArray();
    }

    private static String join(final int[] ports) {
        return Arrays.stream(ports).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static int[] concat(final int[] a, final int[] b) {
        return IntStream.concat(Arrays.stream(a), Arrays.stream(b)).toArray();
    }
}
