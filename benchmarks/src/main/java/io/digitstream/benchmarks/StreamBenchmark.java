package io.digitstream.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;
import io.digitstream.stream.cli.ImageProducer;
import io.digitstream.stream.cli.ImageSources;
import io.digitstream.stream.cli.Outgoing;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.EmbeddedKafkaBroker;
import io.digitstream.stream.service.StreamService;

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
    private static final int MEASURED_ROUND = 60_000;
    /** Full-load rounds of the per-record baseline: it is several times slower, and steadier. */
    private static final int BASELINE_ROUNDS = 3;
    /**
     * At full load the load generator keeps this many images produced and not yet predicted, about
     * a second's work: the app never runs dry, and images go into the broker at the rate they come
     * out, as in a steady stream. (Producing a whole round at once front-loads the broker's intake.)
     */
    private static final int FULL_LOAD_BACKLOG = 10_000;
    private static final int FULL_LOAD_CHUNK = 500;
    private static final int SETTLE_WINDOW_SECONDS = 30;
    static final int MODEL_WARM_UP_SLICE_SECONDS = 2;
    static final int SETTLE_SECONDS = 3;
    static final int MODEL_WARM_UP_LIMIT_SECONDS = 120;
    static final com.sun.management.OperatingSystemMXBean PROCESS_CPU =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    @Option(names = "--model", defaultValue = "models", description = "Model artifact or models directory.")
    private Path model;

    @Option(names = "--cache-dir", defaultValue = "data/mnist", description = "MNIST cache directory.")
    private Path cacheDir;

    @Option(names = "--full-rounds", defaultValue = "5",
            description = "Measured rounds, each the model alone and then 60,000 images through the app at full"
                    + " load; medians are reported.")
    private int fullRounds;

    @Option(names = "--warm-up-seconds", defaultValue = "600",
            description = "Longest unmeasured full load first; it ends sooner once the JIT compiler has settled.")
    private int warmUpSeconds;

    @Option(names = "--settled-jit-share", defaultValue = "0.02",
            description = "The JIT compiler has settled when it worked less than this share of the last 30 s of"
                    + " warm-up.")
    private double settledJitShare;

    @Option(names = "--half-load-seconds", defaultValue = "60", description = "Length of the half-load run.")
    private int halfLoadSeconds;

    @Option(names = "--model-seconds", defaultValue = "10", description = "Length of each model-only run.")
    private int modelSeconds;

    @Option(names = "--encoding", defaultValue = "base64",
            description = "How the images carry their pixels: base64 (pixelsBase64) or pixels (the number array).")
    private ImageSources.Encoding encoding;

    @Option(names = "--labels", defaultValue = "inline",
            description = "Where the images' labels travel: inline (in the image), late (on digits.labels, each"
                    + " after its image, through the label join), mixed (70% inline, 20% late) or none.")
    private ImageSources.LabelMode labels;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "Use this Kafka instead of starting the embedded broker in this process.")
    private String bootstrapServers;

    @Option(names = "--client-waits",
            description = "After each round, print what Kafka's clients and the embedded broker report waiting on.")
    private static boolean clientWaits;

    @Option(names = {"-s", "--set"}, description = "App settings, as for stream-app --set.")
    private Map<String, String> settings = new HashMap<>();

    public static void main(final String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new StreamBenchmark()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (fullRounds < 1 || modelSeconds < 1 || halfLoadSeconds < 1 || settledJitShare <= 0) {
            System.err.println("stream-benchmark: --full-rounds, --model-seconds, --half-load-seconds and"
                    + " --settled-jit-share must be above 0. See 'stream-benchmark --help'.");
            return 2;
        }
        final MnistDataset test = MnistLocator.withDefaults(null, cacheDir).locate().read().test();
        // A run writes 3-5 GB of images to the broker; none of it is kept.
        final Path brokerDir = Files.createTempDirectory("bench-kafka");
        final Path stateDir = Files.createTempDirectory("bench-state");
        try {
            return measure(test, brokerDir, stateDir);
        } finally {
            org.apache.kafka.common.utils.Utils.delete(brokerDir.toFile());
            org.apache.kafka.common.utils.Utils.delete(stateDir.toFile());
        }
    }

    private int measure(final MnistDataset test, final Path brokerDir, final Path stateDir) throws Exception {
        final Map<String, String> flags = new HashMap<>(settings);
        flags.put(AppConfig.MODEL, model.toString());
        // The benchmark's own broker, not the app's: the per-record baseline runs on it after the app.
        final EmbeddedKafkaBroker broker = bootstrapServers == null ? EmbeddedKafkaBroker.start(brokerDir) : null;
        flags.put(AppConfig.BOOTSTRAP_SERVERS, broker != null ? broker.bootstrapServers() : bootstrapServers);
        flags.put(AppConfig.HTTP_PORT, "0");
        flags.put("application.id", "bench-" + UUID.randomUUID());
        flags.put("state.dir", stateDir.toString());
        final AppConfig config = AppConfig.load(null, Map.of(), flags);
        final int batch = config.topology().batchSize();

        final int threads = Integer.parseInt(config.streamsProperties().getProperty("num.stream.threads"));
        try (ModelOnly alone = new ModelOnly(DigitClassifier.load(model), test, batch, threads)) {
            final Run ours = compare(config, test, alone, threads);
            baseline(config, test, ours);
            return 0;
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    /**
     * The per-record baseline ({@link PerRecordApp}) on the same broker after the app, in the same
     * kind of rounds: a warm-up round, full-load rounds, and half its full-load rate.
     */
    private void baseline(final AppConfig config, final MnistDataset test, final Run ours) throws Exception {
        final int rounds = Math.min(fullRounds, BASELINE_ROUNDS);
        final List<Run> full = new ArrayList<>();
        final Run half;
        final double halfRate;
        System.out.println();
        System.out.println("per-record baseline (one forward pass per image, same model, broker and settings):");
        try (PerRecordApp app = PerRecordApp.start(config, DigitClassifier.load(model));
                LoadClients clients = new LoadClients(config.bootstrapServers())) {
            app.awaitRunning(Duration.ofMinutes(1));
            final List<Outgoing> warmUp = images(test, encoding, labels, WARM_UP_ROUND);
            final List<Outgoing> measured = images(test, encoding, labels, MEASURED_ROUND);
            run(clients, warmUp, 0, "warm-up");
            for (int round = 0; round < rounds; round++) {
                full.add(run(clients, measured, 0, "full"));
            }
            halfRate = full.stream().mapToDouble(Run::imagesPerSecond).sorted().toArray()[rounds / 2] / 2;
            half = run(clients, cycled(measured, (int) (halfRate * halfLoadSeconds)), halfRate, "half");
        }
        final Run median = full.stream().sorted(Comparator.comparingDouble(Run::imagesPerSecond)).toList()
                .get(rounds / 2);
        System.out.printf(Locale.ROOT, "%nper-record baseline, full load %,8.0f images/s sustained (median of %d rounds);"
                + " half load %,.0f images/s, latency p50 %.0f ms, p99 %.0f ms%n", median.imagesPerSecond(), rounds,
                half.imagesPerSecond(), half.p50(), half.p99());
        System.out.printf(Locale.ROOT, "the app against the per-record baseline: %.1fx the images/s at full load%n",
                ours.imagesPerSecond() / median.imagesPerSecond());
    }

    /** The model alone and the app in paired rounds, then half load; prints them and returns the app's full-load run. */
    private Run compare(final AppConfig config, final MnistDataset test, final ModelOnly modelAlone,
            final int threads) throws Exception {
        final int batch = config.topology().batchSize();
        System.out.println("model only, before the app:");
        final double modelBefore = modelAlone.measure(this, modelSeconds, true);

        final List<Pair> pairs = new ArrayList<>();
        final Run half;
        final double halfRate;
        try (StreamService service = StreamService.start(config);
                LoadClients clients = new LoadClients(service.bootstrapServers())) {
            service.awaitRunning(Duration.ofMinutes(1));
            // A JVM holding a broker, Kafka Streams, Jackson and ND4J compiles hot code for minutes;
            // its compiler threads took a quarter of the CPU in the first minute. A long-running app
            // is past that, so the measurement starts once the compiler is nearly idle.
            // Each kind of round sends the same images every time, made once: made afresh, a round's
            // 70 MB of messages lived just long enough to be copied by each young collection during
            // it, GC work that belongs to the load generator, not the app. (The checking consumer
            // starts each round at the end of the topic, so repeated ids do not mix rounds.)
            final List<Outgoing> warmUp = images(test, encoding, labels, WARM_UP_ROUND);
            final List<Outgoing> measured = images(test, encoding, labels, MEASURED_ROUND);
            awaitSettledJit(TimeUnit.SECONDS.toNanos(warmUpSeconds), () -> run(clients, warmUp, 0, "warm-up"));
            // Rounds of the model alone (the app idle) and the app at full load, one after the other:
            // the machine is shared and its speed drifts by 10-20% over minutes, so each round's
            // ratio compares two measurements taken within seconds, and the median ratio is reported.
            final CpuShares cpu = new CpuShares(service);
            final StageLatencies fullStages = new StageLatencies(service.metrics());
            final CommitTimes fullCommits = CommitTimes.of(service);
            for (int round = 0; round < fullRounds; round++) {
                final double alone = modelAlone.measure(this, modelSeconds, false);
                pairs.add(new Pair(alone, run(clients, measured, 0, "full", cpu)));
            }
            cpu.print("the full-load rounds");
            System.out.println(CommitTimes.of(service).since(fullCommits));
            fullStages.print("full");
            halfRate = median(pairs, pair -> pair.full().imagesPerSecond()) / 2;
            final CommitTimes halfCommits = CommitTimes.of(service);
            final StageLatencies stages = new StageLatencies(service.metrics());
            // The measured round's images over and over: made afresh, a run of several hundred thousand
            // events filled the heap the app shares, and the collector's work (up to 0.4 of a core in
            // a 60 s run) and pauses counted against the app's latency.
            final CpuShares halfCpu = new CpuShares(service);
            half = run(clients, cycled(measured, (int) (halfRate * halfLoadSeconds)), halfRate, "half", halfCpu);
            halfCpu.print("the half-load run");
            System.out.println(CommitTimes.of(service).since(halfCommits));
            stages.print("half");
        }
        System.out.println("model only, after the app:");
        final double modelAfter = modelAlone.measure(this, modelSeconds, false);
        final double modelOnly = median(pairs, Pair::modelOnly);
        final Run full = pairs.stream().map(Pair::full).sorted(Comparator.comparingDouble(Run::imagesPerSecond))
                .toList().get(pairs.size() / 2);

        final Properties streams = config.streamsProperties();
        final String kafkaCommits = streams.containsKey("commit.interval.ms")
                ? streams.getProperty("commit.interval.ms") + " ms" : "Kafka Streams' default";
        final String commits = config.topology().commitInterval() == null ? kafkaCommits
                : config.topology().commitInterval().toMillis() + " ms, " + kafkaCommits + " under a backlog";
        System.out.printf(Locale.ROOT, "%nimages as %s, labels %s, batch size %d, wait %d ms, %s,"
                + " commit interval %s, %d stream thread(s), OMP_NUM_THREADS=%s%n",
                encoding.name().toLowerCase(Locale.ROOT), labels.name().toLowerCase(Locale.ROOT), batch, config.topology().batchWait().toMillis(),
                streams.get("processing.guarantee"), commits, threads,
                System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
        System.out.printf(Locale.ROOT, "(a) model only, %d thread(s)  %,8.0f images/s (median of %d rounds beside the"
                + " idle app; %,.0f before the app, %,.0f after it)%n", threads, modelOnly, fullRounds, modelBefore,
                modelAfter);
        System.out.printf(Locale.ROOT, "(b) end to end, full load   %,8.0f images/s sustained (median of %d rounds,"
                + " %,.0f-%,.0f; %,.0f over whole rounds); latency p50 %.0f ms, p99 %.0f ms%n", full.imagesPerSecond(),
                fullRounds, pairs.stream().mapToDouble(pair -> pair.full().imagesPerSecond()).min().orElseThrow(),
                pairs.stream().mapToDouble(pair -> pair.full().imagesPerSecond()).max().orElseThrow(),
                median(pairs, pair -> pair.full().wholeRound()), full.p50(), full.p99());
        System.out.printf(Locale.ROOT, "    (b) / (a)               %8.0f%% (median of the rounds' ratios, %.0f-%.0f%%);"
                + " over whole rounds: %.0f%%; against the mean of (a) before and after the app: %.0f%%%n",
                100 * median(pairs, Pair::ratio), 100 * pairs.stream().mapToDouble(Pair::ratio).min().orElseThrow(),
                100 * pairs.stream().mapToDouble(Pair::ratio).max().orElseThrow(),
                100 * median(pairs, pair -> pair.full().wholeRound() / pair.modelOnly()),
                100 * full.imagesPerSecond() / ((modelBefore + modelAfter) / 2));
        System.out.printf(Locale.ROOT, "    end to end, half load   %,8.0f images/s offered %.0f; latency p50 %.0f ms,"
                + " p99 %.0f ms%n", half.imagesPerSecond(), halfRate, half.p50(), half.p99());
        return full;
    }

    /** One round: the model alone, then the whole app at full load. */
    private record Pair(double modelOnly, Run full) {

        double ratio() {
            return full.imagesPerSecond() / modelOnly;
        }
    }

    private static double median(final List<Pair> pairs, final java.util.function.ToDoubleFunction<Pair> figure) {
        final double[] sorted = pairs.stream().mapToDouble(figure).sorted().toArray();
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    static long threadsCpu(final List<Thread> threads) {
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        return threads.stream().mapToLong(thread -> Math.max(0, mx.getThreadCpuTime(thread.getId()))).sum();
    }

    interface Round {
        void run() throws Exception;
    }

    /**
     * Repeats {@code round} until the JIT compiler has worked less than the settled share of the last
     * {@link #SETTLE_WINDOW_SECONDS} seconds, or {@code limitNanos} have passed. A window rather than
     * a few quiet rounds in a row: the broker's and the clients' large methods reach C2 one by one,
     * a few hundred milliseconds each, minutes into the load, and quiet rounds between them ended
     * one warm-up with the compiler still taking 7.6% of the measured rounds' CPU.
     */
    void awaitSettledJit(final long limitNanos, final Round round) throws Exception {
        final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        final long start = System.nanoTime();
        final long window = TimeUnit.SECONDS.toNanos(SETTLE_WINDOW_SECONDS);
        // Round ends: {nanoTime, compilation milliseconds so far}, the oldest dropped once a later
        // one is a whole window back.
        final List<long[]> ends = new ArrayList<>();
        ends.add(new long[] {start, jit.getTotalCompilationTime()});
        while (System.nanoTime() - start < limitNanos) {
            round.run();
            final long now = System.nanoTime();
            ends.add(new long[] {now, jit.getTotalCompilationTime()});
            while (ends.size() > 2 && now - ends.get(1)[0] >= window) {
                ends.remove(0);
            }
            final long[] from = ends.get(0);
            final double share = (ends.get(ends.size() - 1)[1] - from[1]) / ((now - from[0]) / 1e6);
            System.out.printf(Locale.ROOT, "  JIT compiler busy %.1f%% of the last %.0f s%n", 100 * share,
                    (now - from[0]) / 1e9);
            if (now - from[0] >= window && share < settledJitShare) {
                return;
            }
        }
    }

    /**
     * Where an image can wait between the load generator and the stream threads, from the clients'
     * and the broker's metrics: the clients' over their last 30-60 s, the broker's over its last
     * few minutes, both as JMX publishes them.
     */
    private static String clientWaits() {
        final String load = "kafka.producer:type=producer-metrics,client-id=bench-load";
        final String broker = "kafka.network:type=RequestMetrics,name=%s,request=%s";
        final String threads = "kafka.streams:type=stream-thread-metrics,*";
        return String.format(Locale.ROOT, "load generator: record queue max %.0f ms, request max %.0f ms, buffer wait"
                + " %.1f%%; broker p99/max: Produce %.0f/%.0f ms (queued %.0f/%.0f), FetchConsumer %.0f/%.0f ms;"
                + " stream threads (their last 30-60 s, the idle time between rounds included): fetch max %.0f ms,"
                + " %.0f polls/s of %.0f records and %.1f ms on average"
                + " (max %.0f ms), commit max %.0f ms, process %.0f%%, poll %.0f%% of their time",
                jmx(load, "record-queue-time-max"), jmx(load, "request-latency-max"),
                100 * jmx(load, "bufferpool-wait-ratio"),
                jmx(String.format(broker, "TotalTimeMs", "Produce"), "99thPercentile"),
                jmx(String.format(broker, "TotalTimeMs", "Produce"), "Max"),
                jmx(String.format(broker, "RequestQueueTimeMs", "Produce"), "99thPercentile"),
                jmx(String.format(broker, "RequestQueueTimeMs", "Produce"), "Max"),
                jmx(String.format(broker, "TotalTimeMs", "FetchConsumer"), "99thPercentile"),
                jmx(String.format(broker, "TotalTimeMs", "FetchConsumer"), "Max"),
                jmx("kafka.consumer:type=consumer-fetch-manager-metrics,client-id=*StreamThread-*-consumer",
                        "fetch-latency-max"),
                jmx(threads, "poll-rate"), jmx(threads, "poll-records-avg"), jmx(threads, "poll-latency-avg"),
                jmx(threads, "poll-latency-max"), jmx(threads, "commit-latency-max"),
                100 * jmx(threads, "process-ratio"), 100 * jmx(threads, "poll-ratio"))
                + "\n         " + fetchWaits();
    }

    /** Each broker histogram's count and sum at the last {@link #fetchWaits()}, by MBean name. */
    private static final Map<String, double[]> HISTOGRAMS_BEFORE = new HashMap<>();

    /**
     * Where consumers' fetches spent their time since the last call, by the broker's request phases
     * (means per fetch of all consumers, the dashboard's and the checking consumer's included:
     * queued for a request thread, read, held in purgatory for data, queued for a network thread,
     * sent), and what the stream threads' consumers fetched over their last 30-60 s.
     */
    private static String fetchWaits() {
        final StringBuilder line = new StringBuilder(
                "broker FetchConsumer (all consumers), mean ms since the last round:");
        for (final String phase : List.of("RequestQueueTimeMs", "LocalTimeMs", "RemoteTimeMs", "ResponseQueueTimeMs",
                "ResponseSendTimeMs", "TotalTimeMs")) {
            final String name = "kafka.network:type=RequestMetrics,name=" + phase + ",request=FetchConsumer";
            final double count = jmx(name, "Count");
            final double sum = count * jmx(name, "Mean");
            final double[] before = HISTOGRAMS_BEFORE.getOrDefault(name, new double[2]);
            HISTOGRAMS_BEFORE.put(name, new double[] {count, sum});
            line.append(String.format(Locale.ROOT, " %s %.1f", phase.replace("TimeMs", ""),
                    (sum - before[1]) / Math.max(1, count - before[0])));
        }
        final String fetches = "kafka.consumer:type=consumer-fetch-manager-metrics,client-id=*StreamThread-*-consumer";
        return line.append(String.format(Locale.ROOT, "; stream threads' fetches: latency avg %.1f ms, %.0f KB and"
                + " %.0f records each, lag max %.0f records", jmx(fetches, "fetch-latency-avg"),
                jmx(fetches, "fetch-size-avg") / 1024, jmx(fetches, "records-per-request-avg"),
                jmx(fetches, "records-lag-max"))).toString();
    }

    /** The largest value of {@code attribute} among the MBeans {@code pattern} names that have it; NaN if none. */
    private static double jmx(final String pattern, final String attribute) {
        final double[] max = {Double.NaN};
        eachMBean(pattern, attribute, (name, value) -> {
            if (!Double.isNaN(value.doubleValue()) && !(value.doubleValue() <= max[0])) {
                max[0] = value.doubleValue();
            }
        });
        return max[0];
    }

    /**
     * Hands {@code attribute} of each MBean {@code pattern} names to {@code use}, skipping those
     * without it: Kafka Streams, for one, registers two MBeans per thread and only one has its figures.
     */
    static void eachMBean(final String pattern, final String attribute,
            final java.util.function.BiConsumer<javax.management.ObjectName, Number> use) {
        final javax.management.MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        final java.util.Set<javax.management.ObjectName> names;
        try {
            names = server.queryNames(new javax.management.ObjectName(pattern), null);
        } catch (final javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(e);
        }
        for (final javax.management.ObjectName name : names) {
            try {
                if (server.getAttribute(name, attribute) instanceof Number value) {
                    use.accept(name, value);
                }
            } catch (final javax.management.JMException e) {
                // An MBean without this attribute, or one unregistered meanwhile: nothing to count.
            }
        }
    }

    /**
     * Produces {@code images} (at {@code rate} per second, or as fast as possible when 0) and waits
     * until a read_committed consumer has every prediction. The images carry no timestamp, so their
     * event time is the record timestamp the producer stamps; latency is the consumer's receipt time
     * minus that.
     */
    static Run run(final LoadClients clients, final List<Outgoing> images, final double rate,
            final String name) throws InterruptedException {
        return run(clients, images, rate, name, null);
    }

    private static Run run(final LoadClients clients, final List<Outgoing> images, final double rate,
            final String name, final CpuShares cpu) throws InterruptedException {
        // Ids sent more than once in a run (see cycled) are expected as often as they were sent.
        final Map<String, Integer> expected = new HashMap<>(images.size() * 2);
        images.forEach(image -> expected.merge(image.id(), 1, Integer::sum));
        final long[] latencies = new long[images.size()];
        final long[] arrivals = new long[images.size()];
        // At half load only, the latency in two parts: until the app made the prediction, and from
        // then until it was committed and read. Reading the value costs the consumer CPU, which
        // half load leaves spare.
        final long[] made = rate > 0 ? new long[images.size()] : null;
        int received = 0;
        final KafkaConsumer<String, byte[]> consumer = clients.consumer;
        final ImageProducer producer = clients.producer;
        consumer.seekToEnd(consumer.assignment());
        consumer.assignment().forEach(consumer::position);
        if (cpu != null) {
            cpu.begin();
        }
        final KafkaTrouble troubleBefore = KafkaTrouble.now();
        final StallSampler stalls = rate > 0 ? new StallSampler() : null;
        final long start = System.nanoTime();
        // At full load, one permit per image the load generator may still send before it has to
        // wait for a prediction: it sleeps until the consumer hands some back, not polling.
        final Semaphore backlog = new Semaphore(FULL_LOAD_BACKLOG);
        // Set if the round fails, so a load generator waiting for predictions does not wait forever.
        final AtomicBoolean abandoned = new AtomicBoolean();
        final Thread sender = new Thread(() -> {
            if (rate > 0) {
                producer.send(images, rate, abandoned::get, sent -> { });
                return;
            }
            try {
                for (int from = 0; from < images.size() && !abandoned.get(); from += FULL_LOAD_CHUNK) {
                    final int to = Math.min(images.size(), from + FULL_LOAD_CHUNK);
                    while (!backlog.tryAcquire(to - from, 100, TimeUnit.MILLISECONDS)) {
                        if (abandoned.get()) {
                            return;
                        }
                    }
                    producer.send(images.subList(from, to), 0, abandoned::get, sent -> { });
                }
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-producer");
        sender.start();
        long lastArrival = start;
        try {
            while (!expected.isEmpty()) {
                final int before = received;
                // At full load only the key and the timestamp (the image's event time) are read: the
                // value stays bytes, so the checking consumer takes less of the CPU the app shares.
                for (final ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    final Integer left = expected.get(record.key());
                    if (left != null) {
                        if (left == 1) {
                            expected.remove(record.key());
                        } else {
                            expected.put(record.key(), left - 1);
                        }
                        if (made != null) {
                            made[received] = processingTime(record.value()) - record.timestamp();
                            stalls.newestRead.accumulateAndGet(record.timestamp(), Math::max);
                        }
                        latencies[received] = System.currentTimeMillis() - record.timestamp();
                        lastArrival = System.nanoTime();
                        arrivals[received++] = lastArrival;
                    }
                }
                backlog.release(received - before);
                if (System.nanoTime() - lastArrival > TimeUnit.MINUTES.toNanos(2)) {
                    throw new IllegalStateException(name + " run stalled with " + expected.size()
                            + " predictions missing");
                }
            }
        } finally {
            if (!expected.isEmpty()) {
                abandoned.set(true);
            }
            sender.join();
            if (stalls != null) {
                stalls.close();
            }
        }
        if (cpu != null) {
            cpu.end();
        }
        final double seconds = (lastArrival - start) / 1e9;
        final long[] sorted = latencies.clone();
        Arrays.sort(sorted);
        // Steady state: after the pipeline has filled, and at full load before the load
        // generator has sent its last image and stopped loading the broker.
        final int first = arrivals.length / 6;
        final int last = Math.min(arrivals.length - 1, rate > 0 ? arrivals.length * 9 / 10
                : Math.max(first + 1, arrivals.length - FULL_LOAD_BACKLOG));
        final Run result = new Run((last - first) / ((arrivals[last] - arrivals[first]) / 1e9),
                images.size() / seconds, percentile(sorted, 0.5), percentile(sorted, 0.99));
        System.out.printf(Locale.ROOT, "%-8s %,7d images in %6.1f s: %,6.0f images/s sustained (%,6.0f over the"
                + " whole round), p50 %4.0f ms, p99 %5.0f ms%n", name, images.size(), seconds,
                result.imagesPerSecond(), result.wholeRound(), result.p50(), result.p99());
        KafkaTrouble.now().since(troubleBefore).ifPresent(trouble -> System.out.println("         " + trouble));
        if (clientWaits) {
            System.out.println("         " + clientWaits());
        }
        if (made != null) {
            final long[] untilMade = made.clone();
            final long[] afterMade = new long[made.length];
            for (int i = 0; i < made.length; i++) {
                afterMade[i] = latencies[i] - made[i];
            }
            Arrays.sort(untilMade);
            Arrays.sort(afterMade);
            System.out.printf(Locale.ROOT, "         image sent -> prediction made p50 %4d ms, p99 %5d ms;"
                    + " made -> committed and read p50 %4d ms, p99 %5d ms%n", percentile(untilMade, 0.5),
                    percentile(untilMade, 0.99), percentile(afterMade, 0.5), percentile(afterMade, 0.99));
            stalls.print();
        }
        return result;
    }

    /** The {@code q} quantile of sorted values, the nearest-rank way. */
    private static long percentile(final long[] sorted, final double q) {
        return sorted[Math.max(0, (int) Math.ceil(sorted.length * q) - 1)];
    }

    private static final com.fasterxml.jackson.core.JsonFactory JSON = new com.fasterxml.jackson.core.JsonFactory();

    /** The prediction's processing time, read from its JSON without binding the rest. */
    static long processingTime(final byte[] prediction) {
        try (com.fasterxml.jackson.core.JsonParser parser = JSON.createParser(prediction)) {
            for (var token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (token == com.fasterxml.jackson.core.JsonToken.FIELD_NAME
                        && parser.currentName().equals("processingTime") && parser.getParsingContext().getParent().inRoot()) {
                    parser.nextToken();
                    return parser.getLongValue();
                }
            }
        } catch (final java.io.IOException e) {
            throw new IllegalStateException("unreadable prediction: " + e.getMessage(), e);
        }
        throw new IllegalStateException("prediction without processingTime: "
                + new String(prediction, StandardCharsets.UTF_8));
    }

    /** {@code count} events: {@code images} over and over, without copying them. */
    static List<Outgoing> cycled(final List<Outgoing> images, final int count) {
        return new java.util.AbstractList<>() {
            @Override
            public Outgoing get(final int index) {
                return images.get(index % images.size());
            }

            @Override
            public int size() {
                return count;
            }
        };
    }

    /** {@code count} image events from the test set, over and over, with ids unique per call. */
    static List<Outgoing> images(final MnistDataset test, final ImageSources.Encoding encoding,
            final ImageSources.LabelMode labels, final int count) {
        final List<Outgoing> images = new ArrayList<>(count);
        final String run = UUID.randomUUID().toString().substring(0, 8);
        for (int round = 0; images.size() < count; round++) {
            final List<Outgoing> pass = ImageSources.mnist(test, run + "-" + round, labels, round, encoding);
            images.addAll(pass.subList(0, Math.min(pass.size(), count - images.size())));
        }
        return images;
    }

}
