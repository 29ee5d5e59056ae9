package io.digitstream.stream.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.ModelArtifactException;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.KafkaRefusal;
import io.digitstream.stream.service.StreamService;

/** {@code stream-app}: runs the classifier on Kafka until SIGTERM or Ctrl-C. */
@Command(name = "stream-app", mixinStandardHelpOptions = true, version = "stream-app 0.1.0", sortOptions = false,
        subcommands = {DemoCommand.class, ProduceCommand.class, ConsumeCommand.class, ModelCommand.class,
            BrokerCommand.class},
        description = {"Classifies digit images from digits.images with the trained model and writes "
                + "digits.predictions, digits.accuracy and digits.dlq. Without --bootstrap-servers it starts an "
                + "embedded single-node Kafka. Settings: file < DIGITS_* environment < flags.",
            "", "Subcommands: demo (the whole product on one machine), produce and consume (clients), model"
                    + " (publish, promote, roll back models), broker (Kafka only)."})
public final class StreamApp implements Callable<Integer> {

    public static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings.")
    private Path configFile;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...",
            description = "Kafka to use (default: start the embedded broker).")
    private String bootstrapServers;

    @Option(names = "--model", paramLabel = "PATH",
            description = "Model artifact, or a models directory with LATEST (default: models).")
    private Path model;

    @Option(names = "--http-port", paramLabel = "PORT", description = "Port of /metrics and /health (default: 8080).")
    private Integer httpPort;

    @Option(names = "--exit-with-parent", hidden = true,
            description = "Stop when the process that started this one ends, as a test's app must.")
    private boolean exitWithParent;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Any setting, the app's own or a Kafka Streams/client property, e.g. "
                    + "--set inference.batch.size=64 --set security.protocol=SSL")
    private Map<String, String> settings = new LinkedHashMap<>();

    public static void main(final String[] args) {
        System.exit(run(args));
    }

    public static int run(final String... args) {
        System.setProperty("java.awt.headless", "true");
        final CommandLine cli = new CommandLine(new StreamApp()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((e, ignored) -> {
            final String name = e.getCommandLine().getCommandSpec().qualifiedName();
            e.getCommandLine().getErr().println(name + ": " + e.getMessage() + ". See '" + name + " --help'.");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            final Optional<String> refused = KafkaRefusal.describe(e);
            if (refused.isPresent()) {
                command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + refused.get());
                return EXIT_FAILURE;
            }
            if (e instanceof IllegalArgumentException || e instanceof ModelArtifactException
                    || e instanceof IllegalStateException || e instanceof java.io.UncheckedIOException
                    || e instanceof io.digitstream.model.mnist.MnistUnavailableException
                    || e instanceof org.apache.kafka.common.KafkaException) {
                command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + e.getMessage());
                return e instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
            }
            command.getErr().println("stream-app: unexpected failure, please report it with this trace:");
            e.printStackTrace(command.getErr());
            return EXIT_FAILURE;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() throws InterruptedException {
        final Map<String, String> flags = new LinkedHashMap<>(settings);
        if (bootstrapServers != null) {
            flags.put(AppConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        if (model != null) {
            flags.put(AppConfig.MODEL, model.toString());
        }
        if (httpPort != null) {
            flags.put(AppConfig.HTTP_PORT, httpPort.toString());
        }
        final AppConfig config = AppConfig.load(configFile, System.getenv(), flags);
        if (exitWithParent) {
            // Before starting, which can wait for the cluster as long as it takes.
            ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        }
        final StreamService service = StreamService.start(config);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stopped.countDown();
        }, "shutdown"));
        // Kafka refusing the app ends it with the reason; the shutdown hook closes it on exit.
        service.fatal().thenRun(stopped::countDown);
        stopped.await();
        final String refused = service.fatal().getNow(null);
        if (refused != null) {
            System.err.println("stream-app: " + refused);
            return EXIT_FAILURE;
        }
        return 0;
    }
}
