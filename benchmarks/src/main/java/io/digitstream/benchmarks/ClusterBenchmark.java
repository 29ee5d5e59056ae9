package io.digitstream.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

import org.apache.kafka.common.utils.Utils;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;
import io.digitstream.stream.cli.ImageSources;
import io.digitstream.stream.cli.Outgoing;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.EmbeddedKafkaCluster;
import io.digitstream.stream.service.StreamService;

/**
 * The app on a replicated cluster against the app on one broker, in the same run: one instance on
 * a one-node cluster, then two instances on a three-node cluster (every topic three replicas, two
 * in sync), the brokers in processes of their own each time. Prints full-load images/s and
 * half-load latency of each (docs/benchmarks.md).
 */
@Command(name = "cluster-benchmark", mixinStandardHelpOptions = true,
        description = "End-to-end images/s and half-load latency: one instance on one broker, then two on three.")
public final class ClusterBenchmark implements Callable<Integer> {

    private static final int WARM_UP_ROUND = 20_000;
    private static final int MEASURED_ROUND = 40_000;

    @Option(names = "--model", defaultValue = "models", description = "Model artifact or models directory.")
    private Path model;

    @Option(names = "--cache-dir", defaultValue = "data/mnist", description = "MNIST cache directory.")
    private Path cacheDir;

    @Option(names = "--rounds", defaultValue = "5",
            description = "Full-load rounds per setup (default: ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--warm-up-rounds", defaultValue = "3",
            description = "Unmeasured full-load rounds first: the brokers' and the app's JIT compilers settle"
                    + " (default: ${DEFAULT-VALUE}).")
    private int warmUpRounds;

    @Option(names = "--half-load-seconds", defaultValue = "30", description = "Length of each half-load run.")
    private int halfLoadSeconds;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the input topics.")
    private int partitions;

    /** One setup's figures. */
    private record Figures(String name, double fullLoad, Run half) {
    }

    public static void main(final String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new ClusterBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || halfLoadSeconds < 1 || partitions < 2) {
            System.err.println("cluster-benchmark: --rounds and --half-load-seconds must be above 0, --partitions"
                    + " at least 2. See 'cluster-benchmark --help'.");
            return 2;
        }
        final MnistDataset test = MnistLocator.withDefaults(null, cacheDir).locate().read().test();
        final List<Figures> figures = new ArrayList<>();
        figures.add(measure(test, "1 instance, 1 broker", 1, 1));
        figures.add(measure(test, "2 instances, 3 brokers", 3, 2));
        System.out.println();
        for (final Figures f : figures) {
            System.out.printf(Locale.ROOT, "%-24s full load %,7.0f images/s; half load %,6.0f images/s, p50 %4.0f ms,"
                    + " p99 %5.0f ms%n", f.name(), f.fullLoad(), f.half().imagesPerSecond(), f.half().p50(),
                    f.half().p99());
        }
        System.out.printf(Locale.ROOT, "the cluster against one broker: %.2fx the images/s at full load%n",
                figures.get(1).fullLoad() / figures.get(0).fullLoad());
        return 0;
    }

    private Figures measure(final MnistDataset test, final String name, final int brokers, final int instances)
            throws Exception {
        final Path work = Files.createTempDirectory("cluster-benchmark-");
        System.out.printf(Locale.ROOT, "%n%s:%n", name);
        try (EmbeddedKafkaCluster cluster = EmbeddedKafkaCluster.start(work.resolve("kafka"), brokers, 0)) {
            final String applicationId = "cluster-bench-" + UUID.randomUUID();
            final List<StreamService> apps = new ArrayList<>();
            try {
                for (int i = 0; i < instances; i++) {
                    final Map<String, String> flags = new HashMap<>();
                    flags.put(AppConfig.MODEL, model.toString());
                    flags.put(AppConfig.BOOTSTRAP_SERVERS, cluster.bootstrapServers());
                    flags.put(AppConfig.HTTP_PORT, "0");
                    flags.put(AppConfig.PARTITIONS, Integer.toString(partitions));
                    flags.put("application.id", applicationId);
                    flags.put("state.dir", work.resolve("state-" + i).toString());
                    // Two instances on two cores: one stream thread each, as two one-core machines.
                    flags.put("num.stream.threads", Integer.toString(Math.max(1,
                            Runtime.getRuntime().availableProcessors() / instances)));
                    apps.add(StreamService.start(AppConfig.load(null, Map.of(), flags)));
                }
                for (final StreamService app : apps) {
                    app.awaitRunning(Duration.ofMinutes(2));
                }
                try (LoadClients clients = new LoadClients(cluster.bootstrapServers())) {
                    final List<Outgoing> measured = StreamBenchmark.images(test, ImageSources.Encoding.BASE64,
                            ImageSources.LabelMode.INLINE, MEASURED_ROUND);
                    final List<Outgoing> warmUp = StreamBenchmark.images(test, ImageSources.Encoding.BASE64,
                            ImageSources.LabelMode.INLINE, WARM_UP_ROUND);
                    for (int round = 0; round < warmUpRounds; round++) {
                        StreamBenchmark.run(clients, warmUp, 0, "warm-up");
                    }
                    final double[] full = new double[rounds];
                    for (int round = 0; round < rounds; round++) {
                        full[round] = StreamBenchmark.run(clients, measured, 0, "full").imagesPerSecond();
                    }
                    Arrays.sort(full);
                    final double median = full[rounds / 2];
                    final Run half = StreamBenchmark.run(clients, StreamBenchmark.cycled(measured,
                            (int) (median / 2 * halfLoadSeconds)), median / 2, "half");
                    return new Figures(name, median, half);
                }
            } finally {
                apps.forEach(StreamService::close);
            }
        } finally {
            Utils.delete(work.toFile());
        }
    }
}
