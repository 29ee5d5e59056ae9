package io.digitstream.stream.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.stream.service.EmbeddedKafkaBroker;

/** {@code stream-app broker}: only the embedded single-node Kafka, until Ctrl-C. */
@Command(name = "broker", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs only the embedded single-node Kafka broker (KRaft) until Ctrl-C, for clients, "
                + "benchmarks and several app instances on one machine.")
final class BrokerCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", defaultValue = "9092", description = "Client port (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--dir", defaultValue = "data/kafka", paramLabel = "DIR",
            description = "Data directory, kept between runs (default: ${DEFAULT-VALUE}).")
    private Path dir;

    @Option(names = "--exit-with-parent", hidden = true,
            description = "Stop when the process that started this one ends, as a test's broker must.")
    private boolean exitWithParent;

    @Override
    public Integer call() throws InterruptedException {
        final EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir, port);
        if (exitWithParent) {
            ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "broker-shutdown"));
        spec.commandLine().getOut().println("Kafka broker on " + broker.bootstrapServers() + "; Ctrl-C to stop.");
        spec.commandLine().getOut().flush();
        stopped.await();
        return 0;
    }
}
