package io.digitstream.stream.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.SecureKafka;
import io.digitstream.stream.service.StreamService;

/**
 * {@code stream-app demo}: the whole product on one machine. Starts the embedded broker and the
 * stream app, replays the 10,000 labeled MNIST test images (most labels inline, some late on
 * digits.labels, some never), and prints a live summary until --duration ends or Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the stream app on the embedded broker and replays the MNIST test set through it,",
            "printing images/s, latency, accuracy so far and dead letters every few seconds."})
final class DemoCommand implements Callable<Integer> {

    private static final Duration SUMMARY_EVERY = Duration.ofSeconds(3);
    private static final JsonSerde<Prediction> PREDICTIONS = JsonSerde.serdeFor(Prediction.class);

    @Spec
    private CommandSpec spec;

    @Option(names = "--rate", defaultValue = "200", description = "Images per second to replay (default: ${DEFAULT-VALUE}).")
    private double rate;

    @Option(names = "--duration", paramLabel = "DURATION",
            description = "Stop after this long, ISO-8601 like PT2M (default: run until Ctrl-C).")
    private Duration duration;

    @Option(names = "--model", defaultValue = "models", paramLabel = "PATH",
            description = "Model artifact or models directory (default: ${DEFAULT-VALUE}).")
    private Path model;

    @Option(names = "--http-port", defaultValue = "8080", description = "Port of /metrics and /health (default: ${DEFAULT-VALUE}).")
    private int httpPort;

    @Option(names = "--secure",
            description = "Run the embedded broker SASL_SSL with ACLs, the app as a user with only its own"
                    + " (docs/security.md); prints the client settings file for the CLI.")
    private boolean secure;

    @Mixin
    private MnistOptions mnist;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Stream app settings, as for stream-app --set.")
    private Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public Integer call() throws InterruptedException {
        if (rate <= 0) {
            throw new IllegalArgumentException("--rate must be positive, got " + rate);
        }
        final MnistDataset test = mnist.testSet();
        final Map<String, String> flags = new HashMap<>(settings);
        flags.put(AppConfig.MODEL, model.toString());
        flags.put(AppConfig.HTTP_PORT, Integer.toString(httpPort));
        if (secure) {
            flags.put(AppConfig.BROKER_SECURE, "true");
        }
        final AppConfig config = AppConfig.load(null, System.getenv(), flags);
        final String run = "demo-" + UUID.randomUUID().toString().substring(0, 6);
        final List<Outgoing> images = ImageSources.mnist(test, run, ImageSources.LabelMode.MIXED, 7,
                ImageSources.Encoding.BASE64);
        final Map<String, Integer> truth = new HashMap<>();
        for (int i = 0; i < test.count(); i++) {
            truth.put(images.get(i).id(), test.label(i));
        }

        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicBoolean interrupted = new AtomicBoolean();
        final CountDownLatch stopped = new CountDownLatch(1);
        final Thread hook = new Thread(() -> {
            interrupted.set(true);
            stop.set(true);
            try {
                stopped.await(1, TimeUnit.MINUTES);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        final PrintWriter out = spec.commandLine().getOut();
        try (StreamService service = StreamService.start(config)) {
            // The demo's own clients, as the super user on a secured broker.
            final Map<String, String> clients = new HashMap<>();
            service.embeddedSecurity().ifPresent(security -> {
                security.adminConfig().forEach((key, value) -> clients.put(key, value.toString()));
                out.printf(Locale.ROOT, "Kafka on %s: SASL_SSL (SCRAM-SHA-512), ACLs; the app runs as user %s."
                        + " Client settings of the super user for the CLI: --client-config %s%n",
                        service.bootstrapServers(), StreamService.APP_USER,
                        security.clientConfigFile(SecureKafka.ADMIN));
            });
            // Images sent before the stream threads have their partitions would wait out the group's
            // first rebalance, and the first summaries would show that wait as latency.
            service.awaitRunning(Duration.ofMinutes(1));
            out.printf(Locale.ROOT, "Replaying %,d MNIST test images at %.0f/s with model %s. Dashboard:"
                    + " http://localhost:%d/ (metrics on /metrics). Ctrl-C to stop.%n", images.size(), rate,
                    service.modelVersion(), service.httpPort());
            out.printf(Locale.ROOT, "To switch models while it runs, from another terminal: ./run train --epochs 1"
                    + " --train-limit 20000 --publish (add --shadow to run it beside the live one first), or"
                    + " ./run stream-app model publish|promote|rollback|list.%n");
            out.flush();
            final AtomicInteger sent = new AtomicInteger();
            final Thread replay = new Thread(() -> {
                try (ImageProducer producer = new ImageProducer(service.bootstrapServers(), clients,
                        Duration.ofSeconds(2))) {
                    producer.send(images, rate, stop::get, sent::set);
                } catch (final KafkaException e) {
                    spec.commandLine().getErr().println("demo: the replay stopped, Kafka refused an image: "
                            + e.getMessage());
                }
            }, "replay");
            replay.setDaemon(true);
            replay.start();
            summarize(service, clients, truth, sent, stop, out, images.size());
            stop.set(true);
            replay.join(TimeUnit.SECONDS.toMillis(10));
        } finally {
            stopped.countDown();
            if (!interrupted.get()) {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
        return 0;
    }

    /**
     * Reads committed predictions and prints a summary line every few seconds until stopped. Once
     * every replayed image is classified it says so, and from then on prints a line only for
     * intervals that classified something (images drawn on the dashboard, or sent by other clients).
     */
    private void summarize(final StreamService service, final Map<String, String> clients,
            final Map<String, Integer> truth, final AtomicInteger sent,
            final AtomicBoolean stop, final PrintWriter out, final int replayed) {
        final Properties props = new Properties();
        props.putAll(clients);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-summary-" + UUID.randomUUID());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        final long started = System.nanoTime();
        final long end = duration == null ? Long.MAX_VALUE : started + duration.toNanos();
        long nextSummary = System.nanoTime() + SUMMARY_EVERY.toNanos();
        long predicted = 0;
        long correct = 0;
        long labeled = 0;
        long[] latencies = new long[1024];
        int latencyCount = 0;
        long intervalCount = 0;
        boolean replayDone = false;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.PREDICTIONS));
            while (!stop.get() && System.nanoTime() < end) {
                for (final ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    final Prediction p = PREDICTIONS.deserialize(record.topic(),
                            record.value());
                    predicted++;
                    intervalCount++;
                    final Integer label = truth.get(p.id());
                    if (label != null) {
                        labeled++;
                        correct += label == p.predicted() ? 1 : 0;
                    }
                    if (latencyCount == latencies.length) {
                        latencies = Arrays.copyOf(latencies, latencies.length * 2);
                    }
                    latencies[latencyCount++] = System.currentTimeMillis() - p.eventTime();
                }
                if (System.nanoTime() >= nextSummary) {
                    final double seconds = SUMMARY_EVERY.toNanos() / 1e9;
                    final double elapsed = (System.nanoTime() - started) / 1e9;
                    if (intervalCount > 0 || !replayDone) {
                        Arrays.sort(latencies, 0, latencyCount);
                        out.printf(Locale.ROOT, "[%4.0fs] sent %,6d | classified %,6d | %5.0f images/s | latency p50 %4s"
                                + " p99 %5s | accuracy so far %s | dead letters %.0f | model %s%n",
                                elapsed, sent.get(), predicted, intervalCount / seconds,
                                percentile(latencies, latencyCount, 0.5), percentile(latencies, latencyCount, 0.99),
                                labeled == 0 ? "-" : String.format(Locale.ROOT, "%.2f%% of %,d",
                                        100.0 * correct / labeled, labeled),
                                service.deadLetters(), service.modelVersion());
                    }
                    if (!replayDone && labeled >= replayed) {
                        replayDone = true;
                        out.printf(Locale.ROOT, "Replay done: all %,d images classified in %.0f s, accuracy %.2f%%."
                                + " The app keeps running for the dashboard and its drawing pad; %s.%n",
                                replayed, elapsed, 100.0 * correct / labeled,
                                duration == null ? "Ctrl-C to stop" : "it stops at " + duration.toSeconds() + " s");
                    }
                    out.flush();
                    intervalCount = 0;
                    latencyCount = 0;
                    nextSummary += SUMMARY_EVERY.toNanos();
                }
            }
        }
        out.printf(Locale.ROOT, "Stopping: %,d images classified, accuracy %s.%n", predicted,
                labeled == 0 ? "-" : String.format(Locale.ROOT, "%.2f%%", 100.0 * correct / labeled));
        out.flush();
    }

    private static String percentile(final long[] sorted, final int count, final double quantile) {
        if (count == 0) {
            return "-";
        }
        return sorted[Math.min(count - 1, (int) Math.ceil(count * quantile) - 1)] + "ms";
    }
}
