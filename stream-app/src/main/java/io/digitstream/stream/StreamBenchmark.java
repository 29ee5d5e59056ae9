package io.digitstream.stream;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;
import io.digitstream.schemas.Topics;

/**
 * Measures, in one process on the embedded broker: (a) the classifier alone on batches of the app's
 * batch size, and (b) the whole app under exactly-once, from image produced to prediction
 * committed, at full load and at half of the full-load rate. Prints the figures recorded in
 * docs/benchmarks.md.
 */
@Command(name = "stream-benchmark", mixinStandardHelpOptions = true,
        description = "Model-only vs end-to-end throughput and latency on the embedded broker.")
public final class StreamBenchmark implements Callable<Integer> {

    private static final int WARM_UP_ROUND = 20_000;

    @Option(names = "--model", defaultValue = "models", description = "Model artifact or models directory.")
    private Path model;

    @Option(names = "--cache-dir", defaultValue = "data/mnist", description = "MNIST cache directory.")
    private Path cacheDir;

    @Option(names = "--images", defaultValue = "40000", description = "Images for the full-load run.")
    private int images;

    @Option(names = "--warm-up-seconds", defaultValue = "120",
            description = "Full load first, not measured, for this long: until the JIT compiler has settled.")
    private int warmUpSeconds;

    @Option(names = "--half-load-seconds", defaultValue = "20", description = "Length of the half-load run.")
    private int halfLoadSeconds;

    @Option(names = "--model-seconds", defaultValue = "10", description = "Length of the model-only run.")
    private int modelSeconds;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "Use this Kafka instead of starting the embedded broker in this process.")
    private String bootstrapServers;

    @Option(names = {"-s", "--set"}, description = "App settings, as for stream-app --set.")
    private Map<String, String> settings = new HashMap<>();

    public static void main(final String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new StreamBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        final MnistDataset test = MnistLocator.withDefaults(null, cacheDir).locate().read().test();
        final Path brokerDir = Files.createTempDirectory("bench-kafka");
        final Map<String, String> flags = new HashMap<>(settings);
        flags.put(AppConfig.MODEL, model.toString());
        flags.put(AppConfig.BROKER_DIR, brokerDir.toString());
        flags.put(AppConfig.BROKER_PORT, "0");
        if (bootstrapServers != null) {
            flags.put(AppConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        flags.put(AppConfig.HTTP_PORT, "0");
        flags.put("application.id", "bench-" + UUID.randomUUID());
        flags.put("state.dir", Files.createTempDirectory("bench-state").toString());
        final AppConfig config = AppConfig.load(null, Map.of(), flags);
        final int batch = config.topology().batchSize();

        final int threads = Integer.parseInt(config.streamsProperties().getProperty("num.stream.threads"));
        final DigitClassifier classifier = DigitClassifier.load(model);
        final double modelBefore = modelOnly(classifier, test, batch, threads);
        System.out.printf(Locale.ROOT, "model only, before: %,.0f images/s%n", modelBefore);

        final Run full;
        final Run half;
        final double halfRate;
        try (StreamService service = StreamService.start(config)) {
            awaitRunning(service);
            // A JVM holding a broker, Kafka Streams, Jackson and ND4J compiles hot code for a minute
            // or two; measured earlier, its compiler threads took a quarter of the CPU.
            final long warmUpEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmUpSeconds);
            while (System.nanoTime() < warmUpEnd) {
                run(service, images(test, WARM_UP_ROUND), 0, "warm-up");
            }
            full = run(service, images(test, images), 0, "full");
            halfRate = full.imagesPerSecond() / 2;
            half = run(service, images(test, (int) (halfRate * halfLoadSeconds)), halfRate, "half");
        }
        // The model alone again after the app: the machine is shared, and the mean of the two runs
        // brackets the end-to-end ones in time.
        final double modelAfter = modelOnly(classifier, test, batch, threads);
        final double modelOnly = (modelBefore + modelAfter) / 2;

        System.out.printf(Locale.ROOT, "%nbatch size %d, wait %d ms, %s, %d stream thread(s), OMP_NUM_THREADS=%s%n",
                batch, config.topology().batchWait().toMillis(),
                config.streamsProperties().get("processing.guarantee"), threads,
                System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
        System.out.printf(Locale.ROOT, "(a) model only, %d thread(s)  %,8.0f images/s (mean of %,.0f before and %,.0f"
                + " after the app)%n", threads, modelOnly, modelBefore, modelAfter);
        System.out.printf(Locale.ROOT, "(b) end to end, full load   %,8.0f images/s = %.0f%% of (a); latency p50 %.0f ms,"
                + " p99 %.0f ms%n", full.imagesPerSecond(), 100 * full.imagesPerSecond() / modelOnly, full.p50(),
                full.p99());
        System.out.printf(Locale.ROOT, "    end to end, half load   %,8.0f images/s offered %.0f; latency p50 %.0f ms,"
                + " p99 %.0f ms%n", half.imagesPerSecond(), halfRate, half.p50(), half.p99());
        return 0;
    }

    /**
     * Images per second of the classifier alone on batches of {@code batch} test images, with one
     * copy of the network per thread as the app runs it, for the set time.
     */
    private double modelOnly(final DigitClassifier classifier, final MnistDataset test, final int batch,
            final int threads) throws InterruptedException {
        final List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            images.add(Arrays.copyOfRange(test.pixels(), i * DigitNetwork.PIXELS, (i + 1) * DigitNetwork.PIXELS));
        }
        final java.util.concurrent.atomic.AtomicLong classified = new java.util.concurrent.atomic.AtomicLong();
        final long start = System.nanoTime();
        final long end = start + TimeUnit.SECONDS.toNanos(modelSeconds);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final DigitClassifier copy = classifier.copy();
            final Thread worker = new Thread(() -> {
                for (int i = 0; i < 10; i++) {
                    copy.classify(images);
                }
                while (System.nanoTime() < end) {
                    copy.classify(images);
                    classified.addAndGet(batch);
                }
            }, "model-only-" + t);
            workers.add(worker);
            worker.start();
        }
        for (final Thread worker : workers) {
            worker.join();
        }
        return classified.get() / ((System.nanoTime() - start) / 1e9);
    }

    private record Run(double imagesPerSecond, double p50, double p99) {
    }

    /**
     * Where the process's CPU time goes between {@link #start()} and {@link #print()}, per group of
     * threads: the stream threads (decode, batching, inference, join, accuracy), their producers'
     * I/O, the load generator, the checking consumer, the broker, and the rest (JIT, GC).
     */
    private static final class CpuShares {

        private final java.lang.management.ThreadMXBean threads =
                java.lang.management.ManagementFactory.getThreadMXBean();
        private final com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        private final Map<Long, Long> before = new HashMap<>();
        private final Map<Long, String> names = new HashMap<>();
        private long processBefore;
        private long wallBefore;
        private StreamMetrics metrics;
        private double inferenceBefore;

        static CpuShares start(final StreamMetrics metrics) {
            final CpuShares shares = new CpuShares();
            shares.metrics = metrics;
            shares.inferenceBefore = metrics.inferenceSeconds();
            shares.processBefore = shares.os.getProcessCpuTime();
            shares.wallBefore = System.nanoTime();
            for (final java.lang.management.ThreadInfo info : shares.threads.dumpAllThreads(false, false)) {
                shares.before.put(info.getThreadId(), shares.threads.getThreadCpuTime(info.getThreadId()));
            }
            return shares;
        }

        void print(final String run) {
            final long wall = System.nanoTime() - wallBefore;
            final long process = os.getProcessCpuTime() - processBefore;
            final Map<String, Long> groups = new java.util.TreeMap<>();
            long accounted = 0;
            for (final java.lang.management.ThreadInfo info : threads.dumpAllThreads(false, false)) {
                final long now = threads.getThreadCpuTime(info.getThreadId());
                if (now < 0) {
                    continue;
                }
                final long used = now - before.getOrDefault(info.getThreadId(), 0L);
                accounted += used;
                groups.merge(group(info.getThreadName()), used, Long::sum);
            }
            long gc = 0;
            for (final java.lang.management.GarbageCollectorMXBean collector
                    : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
                gc += collector.getCollectionTime();
            }
            groups.merge("other (JIT, GC)", process - accounted, Long::sum);
            System.out.printf(Locale.ROOT, "CPU during the %s run: %.2f cores busy of %d; GC pauses %d ms in all so far%n",
                    run, (double) process / wall, Runtime.getRuntime().availableProcessors(), gc);
            groups.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(entry -> System.out.printf(Locale.ROOT, "  %-34s %5.1f%%%n", entry.getKey(),
                            100.0 * entry.getValue() / process));
            final double inference = metrics.inferenceSeconds() - inferenceBefore;
            System.out.printf(Locale.ROOT, "  the forward passes alone           %5.1f%% (within the stream threads)%n",
                    100 * inference * 1e9 / process);
        }

        private static String group(final String thread) {
            if (thread.contains("StreamThread")) {
                return thread.startsWith("kafka-producer-network-thread") ? "stream threads' producer I/O"
                        : "stream threads";
            }
            if (thread.startsWith("bench-producer") || thread.startsWith("kafka-producer-network-thread")) {
                return "load generator";
            }
            if (thread.equals("main")) {
                return "checking consumer";
            }
            return "broker and the rest";
        }
    }

    /**
     * Produces {@code images} (at {@code rate} per second, or as fast as possible when 0) and waits
     * until a read_committed consumer has every prediction. The images carry no timestamp, so their
     * event time is the record timestamp the producer stamps; latency is the consumer's receipt time
     * minus that.
     */
    private static Run run(final StreamService service, final List<Outgoing> images, final double rate,
            final String name) throws InterruptedException {
        final String bootstrap = service.bootstrapServers();
        final Set<String> expected = ConcurrentHashMap.newKeySet();
        images.forEach(image -> expected.add(image.id()));
        final List<Long> latencies = new ArrayList<>(images.size());
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap);
                ImageProducer producer = new ImageProducer(bootstrap, Map.of(), Duration.ZERO)) {
            consumer.subscribe(List.of(Topics.PREDICTIONS));
            while (consumer.assignment().isEmpty()) {
                consumer.poll(Duration.ofMillis(100));
            }
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position);
            final CpuShares cpu = CpuShares.start(service.metrics());
            final long start = System.nanoTime();
            final Thread sender = new Thread(() -> producer.send(images, rate, () -> false, sent -> { }),
                    "bench-producer");
            sender.start();
            long lastArrival = start;
            while (!expected.isEmpty()) {
                for (final ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    if (expected.remove(record.key())) {
                        latencies.add(System.currentTimeMillis() - record.timestamp());
                        lastArrival = System.nanoTime();
                    }
                }
                if (System.nanoTime() - lastArrival > TimeUnit.MINUTES.toNanos(2)) {
                    throw new IllegalStateException(name + " run stalled with " + expected.size()
                            + " predictions missing");
                }
            }
            sender.join();
            cpu.print(name);
            final double seconds = (lastArrival - start) / 1e9;
            final long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            final Run result = new Run(images.size() / seconds, sorted[sorted.length / 2],
                    sorted[(int) Math.ceil(sorted.length * 0.99) - 1]);
            System.out.printf(Locale.ROOT, "%-8s %,7d images in %6.1f s: %,6.0f images/s, p50 %4.0f ms, p99 %5.0f ms%n",
                    name, images.size(), seconds, result.imagesPerSecond(), result.p50(), result.p99());
            return result;
        }
    }

    /** {@code count} pixel-array image events from the test set, over and over, with ids unique per call. */
    private static List<Outgoing> images(final MnistDataset test, final int count) {
        final List<Outgoing> images = new ArrayList<>(count);
        final String run = UUID.randomUUID().toString().substring(0, 8);
        for (int round = 0; images.size() < count; round++) {
            final List<Outgoing> pass = ImageSources.mnist(test, run + "-" + round, ImageSources.LabelMode.INLINE, round);
            images.addAll(pass.subList(0, Math.min(pass.size(), count - images.size())));
        }
        return images;
    }

    private static void awaitRunning(final StreamService service) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (service.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("stream app not RUNNING after a minute: " + service.state());
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static KafkaConsumer<String, String> consumer(final String bootstrap) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
