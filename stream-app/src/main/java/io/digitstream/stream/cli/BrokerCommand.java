package io.digitstream.stream.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.stream.service.EmbeddedKafkaBroker;
import io.digitstream.stream.service.EmbeddedKafkaCluster;

/** {@code stream-app broker}: only the embedded Kafka, one node or a cluster, until Ctrl-C. */
@Command(name = "broker", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs only the embedded Kafka (KRaft) until Ctrl-C, for clients, benchmarks and several "
                + "app instances on one machine: one node in this process, or with --nodes 3 a replicated "
                + "cluster, each node a process of its own.")
final class BrokerCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "1", paramLabel = "N",
            description = "Nodes, each broker and controller; more than one: a cluster of processes, topics "
                    + "replicated to three (default: ${DEFAULT-VALUE}).")
    private int nodes;

    @Option(names = "--port", defaultValue = "9092",
            description = "Client port, of the first node; the others follow (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Data directory, kept between runs (default: data/kafka, for a cluster data/kafka-cluster).")
    private Path dir;

    @Option(names = "--no-restart",
            description = "With --nodes above 1: leave a node down when its process ends. By default it is started"
                    + " again on its data, so one node can be killed (kill -9 PID) and the cluster watched as it"
                    + " recovers.")
    private boolean noRestart;

    @Option(names = "--exit-with-parent", hidden = true,
            description = "Stop when the process that started this one ends, as a test's broker must.")
    private boolean exitWithParent;

    @Override
    public Integer call() throws InterruptedException {
        if (nodes < 1 || nodes > 9) {
            throw new ParameterException(spec.commandLine(), "--nodes takes 1 to 9, got " + nodes);
        }
        final AutoCloseable broker;
        final String bootstrapServers;
        String nodesLine = "";
        if (nodes == 1) {
            final EmbeddedKafkaBroker single = EmbeddedKafkaBroker.start(dir == null ? Path.of("data/kafka") : dir, port);
            broker = single;
            bootstrapServers = single.bootstrapServers();
        } else {
            spec.commandLine().getOut().println("Starting " + nodes + " Kafka nodes (about 10 s)...");
            spec.commandLine().getOut().flush();
            final EmbeddedKafkaCluster cluster = EmbeddedKafkaCluster.start(
                    dir == null ? Path.of("data/kafka-cluster") : dir, nodes, port);
            broker = cluster;
            bootstrapServers = cluster.bootstrapServers();
            final StringBuilder pids = new StringBuilder();
            for (int node = 1; node <= nodes; node++) {
                pids.append(node == 1 ? "" : ", ").append(node).append(": pid ").append(cluster.pid(node));
            }
            nodesLine = "Nodes " + pids + (!noRestart ? "; a node whose process ends is started again." : ".");
            if (!noRestart) {
                final PrintWriter out = spec.commandLine().getOut();
                cluster.restartNodesThatEnd(message -> {
                    out.println(message);
                    out.flush();
                });
            }
        }
        if (exitWithParent) {
            ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                broker.close();
            } catch (final Exception e) {
                System.err.println("Kafka did not stop cleanly: " + e.getMessage());
            }
            stopped.countDown();
        }, "broker-shutdown"));
        spec.commandLine().getOut().println((nodes == 1 ? "Kafka broker on " : "Kafka cluster of " + nodes
                + " nodes on ") + bootstrapServers + "; Ctrl-C to stop.");
        if (!nodesLine.isEmpty()) {
            spec.commandLine().getOut().println(nodesLine);
        }
        spec.commandLine().getOut().flush();
        stopped.await();
        return 0;
    }
}
