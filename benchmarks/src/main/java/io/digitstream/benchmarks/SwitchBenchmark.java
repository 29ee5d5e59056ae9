package io.digitstream.benchmarks;

import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.utils.Utils;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelMetadata;
import io.digitstream.model.SelfTest;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;
import io.digitstream.releases.ModelRelease;
import io.digitstream.releases.Releases;
import io.digitstream.releases.Replication;
import io.digitstream.stream.cli.ImageSources;
import io.digitstream.stream.cli.Outgoing;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.EmbeddedKafkaBroker;
import io.digitstream.stream.service.StreamService;

/**
 * What a model switch costs the stream: pairs of runs at a steady rate, one without a switch and
 * one with a new version published half-way, alternating so the machine's drift falls on both.
 * Prints each run's p99, the medians and their difference, and the time from the control record
 * being written to the first committed prediction of the new version (docs/benchmarks.md).
 */
@Command(name = "switch-benchmark", mixinStandardHelpOptions = true,
        description = "Latency with and without a model switch in the middle, and publish-to-first-prediction time.")
public final class SwitchBenchmark implements Callable<Integer> {

    @Option(names = "--model", defaultValue = "models", description = "The model artifact (default: ${DEFAULT-VALUE}).")
    private Path model;

    @Option(names = "--rate", defaultValue = "6000",
            description = "Images/s offered, about half the app's full load here (default: ${DEFAULT-VALUE}).")
    private double rate;

    @Option(names = "--seconds", defaultValue = "30", description = "Length of each run (default: ${DEFAULT-VALUE}).")
    private int seconds;

    @Option(names = "--pairs", defaultValue = "3", description = "Pairs of runs (default: ${DEFAULT-VALUE}).")
    private int pairs;

    @Option(names = "--cache-dir", defaultValue = "data/mnist", description = "MNIST cache (default: ${DEFAULT-VALUE}).")
    private Path cacheDir;

    /** One run: its latencies' p99 and, with a switch, how long until the new version's first prediction. */
    private record Result(double p50, double p99, double switchMillis) {
    }

    public static void main(final String[] args) {
        System.exit(new CommandLine(new SwitchBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        final MnistDataset test = MnistLocator.withDefaults(null, cacheDir).locate().read().test();
        final Path work = Files.createTempDirectory("switch-benchmark-");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(work.resolve("broker"))) {
            final Path artifact = ModelArtifact.resolve(model);
            final String v1 = DigitClassifier.load(artifact).modelVersion();
            final Path v2 = renamed(artifact, v1 + "-b", work);
            final Map<String, String> flags = new HashMap<>();
            flags.put(AppConfig.MODEL, artifact.toString());
            flags.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            flags.put(AppConfig.HTTP_PORT, "0");
            flags.put("application.id", "switch-bench-" + UUID.randomUUID());
            flags.put("state.dir", work.resolve("state").toString());
            final Releases releases = new Releases(Map.of("bootstrap.servers", broker.bootstrapServers()),
                    Replication.FOLLOW_CLUSTER, "switch-benchmark");
            try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), flags));
                    LoadClients clients = new LoadClients(broker.bootstrapServers())) {
                service.awaitRunning(Duration.ofMinutes(1));
                System.out.printf(Locale.ROOT, "%d pairs of %d s runs at %.0f images/s; model %s, switching to a"
                        + " copy under another version and back%n", pairs, seconds, rate, v1);
                run(clients, test, null, null, "warm-up");
                final List<Result> plain = new ArrayList<>();
                final List<Result> switched = new ArrayList<>();
                // Packed before: packing loads the network, work a trainer does elsewhere.
                final ModelRelease.Packed[] targets = {ModelRelease.pack(v2), ModelRelease.pack(artifact)};
                for (int pair = 0; pair < pairs; pair++) {
                    plain.add(run(clients, test, null, null, "no switch"));
                    final ModelRelease.Packed target = targets[pair % 2];
                    switched.add(run(clients, test, releases, target, "switch"));
                }
                final double plainP99 = median(plain.stream().mapToDouble(Result::p99).toArray());
                final double switchedP99 = median(switched.stream().mapToDouble(Result::p99).toArray());
                final double untilFirst = median(switched.stream().mapToDouble(Result::switchMillis).toArray());
                System.out.printf(Locale.ROOT, "median p99: %.0f ms without a switch, %.0f ms with one: the switch"
                        + " adds %+.0f ms (target: at most 50)%n", plainP99, switchedP99, switchedP99 - plainP99);
                System.out.printf(Locale.ROOT, "control record to the first committed prediction of the new version:"
                        + " median %.0f ms, runs %s (target: under 2,000)%n", untilFirst,
                        Arrays.toString(switched.stream().mapToLong(r -> Math.round(r.switchMillis())).toArray()));
            }
        } finally {
            Utils.delete(work.toFile());
        }
        return 0;
    }

    /**
     * One run at the steady rate; with {@code target}, it is published half-way and the run measures
     * until its first prediction arrives.
     */
    private Result run(final LoadClients clients, final MnistDataset test, final Releases releases,
            final ModelRelease.Packed target, final String name) throws InterruptedException {
        final int count = (int) (rate * seconds);
        final String prefix = UUID.randomUUID().toString().substring(0, 8);
        final List<Outgoing> images = new ArrayList<>(count);
        for (int round = 0; images.size() < count; round++) {
            final List<Outgoing> pass = ImageSources.mnist(test, prefix + "-" + round, ImageSources.LabelMode.INLINE,
                    round, ImageSources.Encoding.BASE64);
            images.addAll(pass.subList(0, Math.min(pass.size(), count - images.size())));
        }
        final KafkaConsumer<String, byte[]> consumer = clients.consumer;
        consumer.seekToEnd(consumer.assignment());
        consumer.assignment().forEach(consumer::position);
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong publishedAt = new AtomicLong(-1);
        final Thread sender = new Thread(() -> clients.producer.send(images, rate, stop::get, sent -> { }),
                "switch-bench-producer");
        // Publishing from a thread of its own, half-way, so the load goes on at its rate meanwhile.
        final Thread publisher = new Thread(() -> {
            try {
                Thread.sleep(seconds * 500L);
            } catch (final InterruptedException e) {
                return;
            }
            releases.publish(target, false);
            publishedAt.set(System.currentTimeMillis());
        }, "switch-bench-publisher");
        sender.start();
        if (target != null) {
            publisher.start();
        }
        final long[] latencies = new long[count];
        int received = 0;
        double switchMillis = Double.NaN;
        final long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 120L).toNanos();
        while (received < count && System.nanoTime() < deadline) {
            for (final ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                if (!record.key().startsWith(prefix) || received >= count) {
                    continue;
                }
                final long now = System.currentTimeMillis();
                latencies[received++] = now - record.timestamp();
                if (target != null && Double.isNaN(switchMillis) && publishedAt.get() > 0
                        && new String(record.value(), StandardCharsets.UTF_8)
                                .contains("\"modelVersion\":\"" + target.version() + "\"")) {
                    switchMillis = now - publishedAt.get();
                }
            }
        }
        stop.set(true);
        sender.join();
        publisher.interrupt();
        publisher.join();
        if (received < count) {
            throw new IllegalStateException(name + ": " + (count - received) + " predictions missing");
        }
        Arrays.sort(latencies);
        final Result result = new Result(latencies[count / 2], latencies[(int) Math.ceil(count * 0.99) - 1],
                switchMillis);
        System.out.printf(Locale.ROOT, "%-10s %,7d images: p50 %4.0f ms, p99 %5.0f ms%s%n", name, count, result.p50(),
                result.p99(), target == null ? "" : String.format(Locale.ROOT, ", new version's first prediction"
                        + " %.0f ms after its control record", switchMillis));
        return result;
    }

    /** A copy of the artifact under another version: the same network, so runs differ only by the switch. */
    private static Path renamed(final Path artifact, final String version, final Path work) {
        final ModelArtifact loaded = ModelArtifact.load(artifact);
        final ModelMetadata m = loaded.metadata();
        final Path copy = work.resolve(version);
        ModelArtifact.save(copy, loaded.network(), new ModelMetadata(version, m.createdAt(), null, null,
                m.datasetSha256(), m.hyperparameters(), m.epochsRun(), m.bestEpoch(), m.testMetrics()));
        SelfTest.read(artifact).ifPresent(selfTest -> selfTest.write(copy));
        return copy;
    }

    private static double median(final double[] values) {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
