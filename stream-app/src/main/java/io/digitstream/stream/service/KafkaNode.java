package io.digitstream.stream.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.utils.Time;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * One KRaft node, broker and controller in one, on 127.0.0.1: its settings in a cluster of one or
 * more such nodes, the formatting of its log directory, and, as a program, the node alone in a JVM
 * of its own ({@link EmbeddedKafkaCluster} starts three so that one can be killed).
 */
public final class KafkaNode {

    /** What a node process prints once it serves. */
    static final String READY = "Kafka node ready: ";

    private KafkaNode() {
    }

    /**
     * The settings of node {@code nodeId} of {@code nodes}. Internal topics are replicated to three
     * nodes (or all, when fewer) with two in sync; a node found dead is fenced after 3 s, so its
     * partitions get new leaders in seconds (docs/operations.md).
     */
    static Properties config(final int nodeId, final int nodes, final String voters, final int brokerPort,
            final int controllerPort, final Path logDir) {
        final String replicas = Integer.toString(Math.min(3, nodes));
        final String inSync = Integer.toString(Math.min(2, nodes));
        final Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", Integer.toString(nodeId));
        props.put("controller.quorum.voters", voters);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDir.toAbsolutePath().toString());
        props.put("offsets.topic.replication.factor", replicas);
        props.put("offsets.topic.num.partitions", Integer.toString(nodes));
        props.put("transaction.state.log.replication.factor", replicas);
        props.put("transaction.state.log.min.isr", inSync);
        props.put("transaction.state.log.num.partitions", Integer.toString(nodes));
        props.put("share.coordinator.state.topic.replication.factor", replicas);
        props.put("share.coordinator.state.topic.min.isr", inSync);
        props.put("default.replication.factor", replicas);
        props.put("min.insync.replicas", nodes >= 3 ? "2" : "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        // A producer writing before the app has made its topics would make them with one partition,
        // which the app would then keep; the app creates its topics itself.
        props.put("auto.create.topics.enable", "false");
        if (nodes > 1) {
            props.put("broker.session.timeout.ms", "3000");
            props.put("broker.heartbeat.interval.ms", "500");
        }
        return props;
    }

    /** Formats {@code logDir} for {@code clusterId} unless an earlier run did: its data is kept. */
    static void format(final Path logDir, final Properties props, final String clusterId) {
        format(logDir, props, clusterId, List.of());
    }

    /** As {@link #format(Path, Properties, String)}, with more arguments to the storage tool (SCRAM users). */
    static void format(final Path logDir, final Properties props, final String clusterId, final List<String> more) {
        try {
            Files.createDirectories(logDir);
            if (Files.exists(logDir.resolve("meta.properties"))) {
                return;
            }
            final Path config = Files.createTempFile("kafka-node", ".properties");
            try {
                try (var out = Files.newOutputStream(config)) {
                    props.store(out, "Kafka node");
                }
                final ByteArrayOutputStream output = new ByteArrayOutputStream();
                final List<String> args = new ArrayList<>(List.of("format", "--cluster-id", clusterId,
                        "--config", config.toString(), "--ignore-formatted"));
                args.addAll(more);
                final int code = StorageTool.execute(args.toArray(String[]::new),
                        new PrintStream(output, true, StandardCharsets.UTF_8));
                if (code != 0) {
                    throw new IllegalStateException("cannot format Kafka log directory " + logDir + ": "
                            + output.toString(StandardCharsets.UTF_8).strip());
                }
            } finally {
                Files.deleteIfExists(config);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot prepare Kafka log directory " + logDir + ": " + e.getMessage(), e);
        }
    }

    /** Starts a node on formatted settings; returns once it has joined its quorum. */
    static KafkaRaftServer start(final Properties props) {
        final KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
        return server;
    }

    /**
     * Runs one node until SIGTERM, or until the process that started it ends.
     *
     * @param args the node's settings file and the cluster id to format a new log directory with
     */
    public static void main(final String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: KafkaNode SETTINGS_FILE CLUSTER_ID (started by stream-app broker --nodes N)");
            System.exit(2);
        }
        final Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
            props.load(in);
        }
        format(Path.of(props.getProperty("log.dirs")), props, args[1]);
        final KafkaRaftServer server = start(props);
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
            stopped.countDown();
        }, "kafka-node-shutdown"));
        System.out.println(READY + props.getProperty("node.id"));
        System.out.flush();
        stopped.await();
    }
}
