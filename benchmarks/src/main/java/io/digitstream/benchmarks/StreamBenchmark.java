package io.digitstream.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
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
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.cli.ImageProducer;
import io.digitstream.stream.cli.ImageSources;
import io.digitstream.stream.cli.Outgoing;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.EmbeddedKafkaBroker;
import io.digitstream.stream.service.StreamService;
import io.digitstream.stream.topology.StreamMetrics;

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
    private static final int MODEL_WARM_UP_SLICE_SECONDS = 2;
    private static final int SETTLE_SECONDS = 3;
    private static final int MODEL_WARM_UP_LIMIT_SECONDS = 120;
    private static final com.sun.management.OperatingSystemMXBean PROCESS_CPU =
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
            final List<Outgoing> warmUp = images(test, encoding, WARM_UP_ROUND);
            final List<Outgoing> measured = images(test, encoding, MEASURED_ROUND);
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
            final List<Outgoing> warmUp = images(test, encoding, WARM_UP_ROUND);
            final List<Outgoing> measured = images(test, encoding, MEASURED_ROUND);
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
        System.out.printf(Locale.ROOT, "%nimages as %s, batch size %d, wait %d ms, %s, commit interval %s,"
                + " %d stream thread(s), OMP_NUM_THREADS=%s%n",
                encoding.name().toLowerCase(Locale.ROOT), batch, config.topology().batchWait().toMillis(),
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

    /**
     * The parts of the app's latency ({@code digits_latency_stage}, the forward passes'
     * {@code digits_inference_time} and the batches' {@code digits_inference_handover}) over a stretch
     * of the run: the percentiles of what the histograms counted since this was made, to their
     * bucket bounds, and the mean images per forward pass.
     */
    private static final class StageLatencies {

        private final StreamMetrics metrics;
        private final Map<String, HistogramSnapshot> before = new TreeMap<>();
        private final HistogramSnapshot batchesBefore;

        StageLatencies(final StreamMetrics metrics) {
            this.metrics = metrics;
            timers().forEach((name, timer) -> before.put(name, timer.takeSnapshot()));
            batchesBefore = batchSizes().takeSnapshot();
        }

        /** The parts of the latency, the forward passes alone, and each batch's waits before and after its pass. */
        private Map<String, Timer> timers() {
            final Map<String, Timer> timers = new java.util.LinkedHashMap<>();
            metrics.registry().find("digits.latency.stage").timers()
                    .forEach(timer -> timers.put(timer.getId().getTag("stage"), timer));
            timers.put("of which forward passes", metrics.registry().get("digits.inference.time").timer());
            metrics.registry().find("digits.inference.handover").timers().forEach(timer -> timers.put(
                    "batches " + timer.getId().getTag("part"), timer));
            return timers;
        }

        private DistributionSummary batchSizes() {
            return metrics.registry().get("digits.inference.batch.size").summary();
        }

        void print(final String load) {
            final StringBuilder line = new StringBuilder("Latency in the app at " + load
                    + " load, p50/p99 (to bucket bounds):");
            timers().forEach((name, timer) -> {
                final CountAtBucket[] now = timer.takeSnapshot().histogramCounts();
                final CountAtBucket[] then = before.get(name).histogramCounts();
                line.append(String.format(Locale.ROOT, " %s %.0f/%.0f ms;", name,
                        bound(now, then, 0.5), bound(now, then, 0.99)));
            });
            final HistogramSnapshot batches = batchSizes().takeSnapshot();
            line.append(String.format(Locale.ROOT, " %.1f images per forward pass",
                    (batches.total() - batchesBefore.total()) / (batches.count() - batchesBefore.count())));
            System.out.println(line);
        }

        /** The smallest bucket bound under which at least {@code quantile} of the new values fall. */
        private static double bound(final CountAtBucket[] now, final CountAtBucket[] then, final double quantile) {
            final double total = now[now.length - 1].count() - then[then.length - 1].count();
            for (int i = 0; i < now.length; i++) {
                if (total > 0 && now[i].count() - then[i].count() >= quantile * total) {
                    return now[i].bucket(TimeUnit.MILLISECONDS);
                }
            }
            return Double.NaN;
        }
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

    /**
     * The classifier alone on batches of the app's batch size, one copy of the network per thread
     * as the app runs it. Its threads live for the whole benchmark, as the app's inference workers
     * do, and wait between measurements: threads made afresh for each measurement set up their
     * native memory (ND4J's workspaces, the allocator's heaps) again every time, which the app's
     * long-lived workers do once.
     */
    private static final class ModelOnly implements AutoCloseable {

        private final List<byte[]> images = new ArrayList<>();
        private final int batch;
        private final List<Thread> workers = new ArrayList<>();
        private final AtomicLong classified = new AtomicLong();
        private final Object lock = new Object();
        private boolean running;
        private boolean closed;
        private volatile boolean measuring;

        ModelOnly(final DigitClassifier classifier, final MnistDataset test, final int batch, final int threads) {
            this.batch = batch;
            for (int i = 0; i < batch; i++) {
                images.add(Arrays.copyOfRange(test.pixels(), i * DigitNetwork.PIXELS, (i + 1) * DigitNetwork.PIXELS));
            }
            for (int t = 0; t < threads; t++) {
                final DigitClassifier copy = classifier.copy();
                final Thread worker = new Thread(() -> classify(copy), "model-only-" + t);
                worker.setDaemon(true);
                workers.add(worker);
                worker.start();
            }
        }

        private void classify(final DigitClassifier copy) {
            try {
                while (true) {
                    synchronized (lock) {
                        while (!running && !closed) {
                            lock.wait();
                        }
                        if (closed) {
                            return;
                        }
                    }
                    copy.classify(images);
                    if (measuring) {
                        classified.addAndGet(batch);
                    }
                }
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                DigitClassifier.releaseThreadMemory();
            }
        }

        private void setRunning(final boolean run) {
            synchronized (lock) {
                running = run;
                lock.notifyAll();
            }
        }

        /**
         * Images per second for {@code seconds}; with {@code warmUp}, first unmeasured until the JIT
         * compiler has settled, as for the app.
         */
        double measure(final StreamBenchmark benchmark, final int seconds, final boolean warmUp) throws Exception {
            setRunning(true);
            try {
                if (warmUp) {
                    benchmark.awaitSettledJit(TimeUnit.SECONDS.toNanos(MODEL_WARM_UP_LIMIT_SECONDS),
                            () -> TimeUnit.SECONDS.sleep(MODEL_WARM_UP_SLICE_SECONDS));
                } else {
                    // Beside the app its last round's tail (final commits, the dashboard's reader
                    // catching up, the collection of that round's garbage) is not idle yet.
                    TimeUnit.SECONDS.sleep(SETTLE_SECONDS);
                }
                classified.set(0);
                measuring = true;
                final long start = System.nanoTime();
                final long cpuStart = PROCESS_CPU.getProcessCpuTime();
                final long modelCpuStart = threadsCpu(workers);
                TimeUnit.SECONDS.sleep(seconds);
                final double wall = System.nanoTime() - start;
                final double perSecond = classified.get() / (wall / 1e9);
                System.out.printf(Locale.ROOT, "model    %,7.0f images/s alone; cores busy: %.2f in all, %.2f in its"
                        + " threads%n", perSecond, (PROCESS_CPU.getProcessCpuTime() - cpuStart) / wall,
                        (threadsCpu(workers) - modelCpuStart) / wall);
                return perSecond;
            } finally {
                measuring = false;
                setRunning(false);
            }
        }

        /** Ends the threads, each freeing its native memory. */
        @Override
        public void close() throws InterruptedException {
            synchronized (lock) {
                closed = true;
                lock.notifyAll();
            }
            for (final Thread worker : workers) {
                worker.join();
            }
        }
    }

    private static long threadsCpu(final List<Thread> threads) {
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        return threads.stream().mapToLong(thread -> Math.max(0, mx.getThreadCpuTime(thread.getId()))).sum();
    }

    private interface Round {
        void run() throws Exception;
    }

    /**
     * Repeats {@code round} until the JIT compiler has worked less than the settled share of the last
     * {@link #SETTLE_WINDOW_SECONDS} seconds, or {@code limitNanos} have passed. A window rather than
     * a few quiet rounds in a row: the broker's and the clients' large methods reach C2 one by one,
     * a few hundred milliseconds each, minutes into the load, and quiet rounds between them ended
     * one warm-up with the compiler still taking 7.6% of the measured rounds' CPU.
     */
    private void awaitSettledJit(final long limitNanos, final Round round) throws Exception {
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
     * One run's figures. {@code imagesPerSecond} is the sustained rate, over the arrivals from a
     * sixth of the round on (the pipeline full) until, at full load, the load generator has sent its
     * last image (from then on the broker takes in nothing and the app has it easier); at half load
     * until nine tenths. {@code wholeRound} is all the images over the time from the first sent to
     * the last prediction received, the pipeline's fill and drain included.
     */
    private record Run(double imagesPerSecond, double wholeRound, double p50, double p99) {
    }

    /**
     * The stream threads' commits and what each waited on, from Kafka Streams' and its producers'
     * metrics: under exactly-once a commit flushes the producer, adds the input offsets to the
     * transaction and commits it, and its stream thread reads nothing meanwhile.
     */
    private record CommitTimes(long atNanos, double commits, double flushNanos, double offsetsNanos,
            double commitNanos) {

        static CommitTimes of(final StreamService service) {
            final Map<String, Double> sums = new HashMap<>();
            service.streamsMetrics().forEach((name, metric) -> {
                final boolean counted = name.group().equals("stream-thread-metrics") && name.name().equals("commit-total")
                        || name.group().equals("producer-metrics") && name.name().endsWith("-time-ns-total");
                if (counted && metric.metricValue() instanceof Number value) {
                    sums.merge(name.name(), value.doubleValue(), Double::sum);
                }
            });
            return new CommitTimes(System.nanoTime(), sums.getOrDefault("commit-total", 0.0),
                    sums.getOrDefault("flush-time-ns-total", 0.0),
                    sums.getOrDefault("txn-send-offsets-time-ns-total", 0.0),
                    sums.getOrDefault("txn-commit-time-ns-total", 0.0));
        }

        String since(final CommitTimes before) {
            final double commitsDone = commits - before.commits;
            final double perCommit = 1e6 * Math.max(1, commitsDone);
            return String.format(Locale.ROOT, "Commits: %.0f per second; per commit, its stream thread waited %.1f ms"
                    + " on the producer's flush, %.1f ms adding offsets, %.1f ms committing the transaction",
                    commitsDone / ((atNanos - before.atNanos) / 1e9), (flushNanos - before.flushNanos) / perCommit,
                    (offsetsNanos - before.offsetsNanos) / perCommit, (commitNanos - before.commitNanos) / perCommit);
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
    private static void eachMBean(final String pattern, final String attribute,
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
     * What went wrong between the clients and the broker without failing anything: error answers
     * the embedded broker gave, by request and error, and records its producers sent again. Both
     * come from JMX, so the load generator's producer counts with the app's. A round that stalls
     * with these at zero waited on something else than a refused request and its backoff.
     */
    private record KafkaTrouble(Map<String, Long> errors, long retriedRecords) {

        static KafkaTrouble now() {
            final Map<String, Long> errors = new TreeMap<>();
            final AtomicLong retried = new AtomicLong();
            eachMBean("kafka.network:type=RequestMetrics,name=ErrorsPerSec,*", "Count", (name, count) -> {
                if (!"NONE".equals(name.getKeyProperty("error"))) {
                    errors.merge(name.getKeyProperty("request") + " " + name.getKeyProperty("error"),
                            count.longValue(), Long::sum);
                }
            });
            eachMBean("kafka.producer:type=producer-metrics,*", "record-retry-total",
                    (name, count) -> retried.addAndGet(count.longValue()));
            return new KafkaTrouble(errors, retried.get());
        }

        /** What happened since {@code before}, in one line, or nothing when nothing did. */
        java.util.Optional<String> since(final KafkaTrouble before) {
            final StringBuilder line = new StringBuilder();
            errors.forEach((error, count) -> {
                final long more = count - before.errors.getOrDefault(error, 0L);
                if (more > 0) {
                    line.append(line.isEmpty() ? "" : ", ").append(error).append(' ').append(more);
                }
            });
            final long retries = retriedRecords - before.retriedRecords;
            if (line.isEmpty() && retries == 0) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(String.format(Locale.ROOT, "broker error answers: %s; records sent again: %,d",
                    line.isEmpty() ? "none" : line, retries));
        }
    }

    /**
     * Where the process's CPU time goes during the measured rounds, per group of threads: the
     * inference workers (forward passes), the stream threads (decode, batching, join, accuracy, and
     * the forward passes too without overlap), their producers' I/O, the load
     * generator, the checking consumer, the broker, and the JVM's own threads (JIT compiler, GC),
     * which only Linux's /proc names. Each round is taken from {@link #begin()} to {@link #end()},
     * before its load generator's threads exit.
     */
    private static final class CpuShares {

        /** Linux reports per-thread CPU time in clock ticks of 10 ms. */
        private static final long NANOS_PER_TICK = 10_000_000L;
        private static final Path TASKS = Path.of("/proc/self/task");
        private static final String REST = "broker and the rest";

        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        private final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        private final Map<Long, Long> before = new HashMap<>();
        private final Map<String, Long> groups = new TreeMap<>();
        private final StreamService service;
        private Map<String, JvmThread> jvmBefore = Map.of();
        private double blockedBefore;
        private double blocked;
        private double commitsBefore;
        private double commitsDone;
        private long processBefore;
        private long wallBefore;
        private long process;
        private long wall;
        private Map<String, Long> requestsBefore = Map.of();
        private final Map<String, Long> requests = new TreeMap<>();
        private Map<String, Long> topicsInBefore = Map.of();
        /** Records and bytes the broker took in, by topic: "records:topic" and "bytes:topic". */
        private final Map<String, Long> topicsIn = new TreeMap<>();
        /** The broker's and the app's other threads, by kind. */
        private final Map<String, Long> rest = new TreeMap<>();

        CpuShares(final StreamService service) {
            this.service = service;
        }

        void begin() {
            before.clear();
            blockedBefore = streamThreadsBlockedNanos();
            commitsBefore = commits();
            processBefore = os.getProcessCpuTime();
            wallBefore = System.nanoTime();
            jvmBefore = jvmThreads();
            requestsBefore = brokerRequests();
            topicsInBefore = brokerTopicsIn();
            for (final ThreadInfo info : threads.dumpAllThreads(false, false)) {
                before.put(info.getThreadId(), threads.getThreadCpuTime(info.getThreadId()));
            }
        }

        void end() {
            final long roundProcess = os.getProcessCpuTime() - processBefore;
            long accounted = 0;
            for (final ThreadInfo info : threads.dumpAllThreads(false, false)) {
                final long now = threads.getThreadCpuTime(info.getThreadId());
                if (now >= 0) {
                    final long used = now - before.getOrDefault(info.getThreadId(), 0L);
                    accounted += used;
                    final String group = group(info.getThreadName());
                    groups.merge(group, used, Long::sum);
                    if (group.equals(REST)) {
                        // Numbers vary by thread and client; the kind of thread is what tells.
                        rest.merge(info.getThreadName().replaceAll("[-|].*", ""), used, Long::sum);
                    }
                }
            }
            // Per thread, as JDK 17 starts and stops compiler threads: one that ended in the round
            // leaves its time to "other JVM threads".
            for (final Map.Entry<String, JvmThread> jvm : jvmThreads().entrySet()) {
                final JvmThread earlier = jvmBefore.get(jvm.getKey());
                final long used = jvm.getValue().nanos() - (earlier == null ? 0 : earlier.nanos());
                accounted += used;
                groups.merge(jvm.getValue().group(), used, Long::sum);
            }
            groups.merge("other JVM threads", roundProcess - accounted, Long::sum);
            process += roundProcess;
            wall += System.nanoTime() - wallBefore;
            blocked += streamThreadsBlockedNanos() - blockedBefore;
            commitsDone += commits() - commitsBefore;
            brokerRequests().forEach((type, count) -> requests.merge(type,
                    count - requestsBefore.getOrDefault(type, 0L), Long::sum));
            brokerTopicsIn().forEach((topic, count) -> topicsIn.merge(topic,
                    count - topicsInBefore.getOrDefault(topic, 0L), Long::sum));
        }

        /**
         * Requests the embedded broker has answered so far, by type, from its own metrics; empty when
         * the broker runs elsewhere. With its threads' CPU, this says what keeps the broker busy.
         */
        private static Map<String, Long> brokerRequests() {
            final Map<String, Long> counts = new HashMap<>();
            final javax.management.MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            try {
                for (final javax.management.ObjectName name : server.queryNames(new javax.management.ObjectName(
                        "kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
                    counts.merge(name.getKeyProperty("request"),
                            ((Number) server.getAttribute(name, "Count")).longValue(), Long::sum);
                }
            } catch (final javax.management.JMException e) {
                return Map.of();
            }
            return counts;
        }

        /** Records and bytes the embedded broker has taken in so far, by topic; empty when it runs elsewhere. */
        private static Map<String, Long> brokerTopicsIn() {
            final Map<String, Long> counts = new HashMap<>();
            final javax.management.MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            try {
                for (final String kind : List.of("records", "bytes")) {
                    final String metric = kind.equals("records") ? "MessagesInPerSec" : "BytesInPerSec";
                    for (final javax.management.ObjectName name : server.queryNames(new javax.management.ObjectName(
                            "kafka.server:type=BrokerTopicMetrics,name=" + metric + ",topic=*"), null)) {
                        counts.put(kind + ":" + name.getKeyProperty("topic"),
                                ((Number) server.getAttribute(name, "Count")).longValue());
                    }
                }
            } catch (final javax.management.JMException e) {
                return Map.of();
            }
            return counts;
        }

        /** Kafka Streams' count of the time its threads waited on Kafka: polls, flushes, commits. */
        private double streamThreadsBlockedNanos() {
            return blockedTimes().mapToDouble(Double::doubleValue).sum();
        }

        /** The stream threads' commits so far, from Kafka Streams' metrics. */
        double commits() {
            return service.streamsMetrics().entrySet().stream()
                    .filter(metric -> metric.getKey().name().equals("commit-total")
                            && metric.getKey().group().equals("stream-thread-metrics"))
                    .mapToDouble(metric -> ((Number) metric.getValue().metricValue()).doubleValue()).sum();
        }

        private java.util.stream.Stream<Double> blockedTimes() {
            return service.streamsMetrics().entrySet().stream()
                    .filter(metric -> metric.getKey().name().equals("blocked-time-ns-total"))
                    .map(metric -> ((Number) metric.getValue().metricValue()).doubleValue());
        }

        void print(final String during) {
            System.out.printf(Locale.ROOT, "CPU during %s: %.2f cores busy of %d%n", during,
                    (double) process / wall, Runtime.getRuntime().availableProcessors());
            groups.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(entry -> System.out.printf(Locale.ROOT, "  %-34s %5.1f%%%n", entry.getKey(),
                            100.0 * entry.getValue() / process));
            System.out.println("  " + REST + ", by thread: " + rest.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                    .map(entry -> String.format(Locale.ROOT, "%s %.1f%%", entry.getKey(),
                            100.0 * entry.getValue() / process))
                    .collect(java.util.stream.Collectors.joining(", ")));
            System.out.printf(Locale.ROOT, "Stream threads waiting on Kafka (polls, flushes, commits): %.1f%% of"
                    + " their time; %.0f commits per second%n", 100 * blocked / wall / Math.max(1, blockedTimes().count()),
                    commitsDone / (wall / 1e9));
            if (requests.isEmpty()) {
                return; // the broker runs in another process
            }
            final double seconds = wall / 1e9;
            System.out.printf(Locale.ROOT, "Broker requests per second during them: %.0f%n",
                    requests.values().stream().mapToLong(Long::longValue).sum() / seconds);
            requests.entrySet().stream().filter(entry -> entry.getValue() / seconds >= 1)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(entry -> System.out.printf(Locale.ROOT, "  %-34s %,7.0f%n", entry.getKey(),
                            entry.getValue() / seconds));
            System.out.println("Records (and KB) per second the broker took in, by topic:");
            topicsIn.entrySet().stream().filter(entry -> entry.getKey().startsWith("records:")
                    && entry.getValue() / seconds >= 1)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(entry -> {
                        final String topic = entry.getKey().substring("records:".length());
                        System.out.printf(Locale.ROOT, "  %-50s %,7.0f (%,6.0f KB)%n", topic,
                                entry.getValue() / seconds, topicsIn.getOrDefault("bytes:" + topic, 0L) / 1024.0 / seconds);
                    });
        }

        private static String group(final String thread) {
            if (thread.startsWith("inference-for-")) {
                return "inference workers (forward pass)";
            }
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
            return REST;
        }

        private record JvmThread(String group, long nanos) {
        }

        /** The JIT compiler's and the GC's threads by task id, with their CPU so far, from /proc; empty elsewhere. */
        private static Map<String, JvmThread> jvmThreads() {
            final Map<String, JvmThread> used = new HashMap<>();
            if (!Files.isDirectory(TASKS)) {
                return used;
            }
            try (var tasks = Files.list(TASKS)) {
                tasks.forEach(task -> {
                    try {
                        final String name = Files.readString(task.resolve("comm")).strip();
                        final String group = name.matches("C[12] CompilerThre.*") ? "JIT compiler"
                                : name.matches("(GC Thread|G1 |VM Thread|Parallel GC).*") ? "GC and safepoints"
                                : null;
                        if (group != null) {
                            final String stat = Files.readString(task.resolve("stat"));
                            // Fields after the parenthesised name: state is the 3rd, utime the 14th, stime the 15th.
                            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                            final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                            used.put(task.getFileName().toString(), new JvmThread(group, ticks * NANOS_PER_TICK));
                        }
                    } catch (final java.io.IOException | RuntimeException e) {
                        // A thread that ended between listing and reading has nothing left to count.
                    }
                });
            } catch (final java.io.IOException e) {
                return Map.of();
            }
            return used;
        }
    }

    /**
     * Produces {@code images} (at {@code rate} per second, or as fast as possible when 0) and waits
     * until a read_committed consumer has every prediction. The images carry no timestamp, so their
     * event time is the record timestamp the producer stamps; latency is the consumer's receipt time
     * minus that.
     */
    private static Run run(final LoadClients clients, final List<Outgoing> images, final double rate,
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
    private static List<Outgoing> cycled(final List<Outgoing> images, final int count) {
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

    /** {@code count} pixel-array image events from the test set, over and over, with ids unique per call. */
    private static List<Outgoing> images(final MnistDataset test, final ImageSources.Encoding encoding,
            final int count) {
        final List<Outgoing> images = new ArrayList<>(count);
        final String run = UUID.randomUUID().toString().substring(0, 8);
        for (int round = 0; images.size() < count; round++) {
            final List<Outgoing> pass = ImageSources.mnist(test, run + "-" + round, ImageSources.LabelMode.INLINE, round,
                    encoding);
            images.addAll(pass.subList(0, Math.min(pass.size(), count - images.size())));
        }
        return images;
    }

    /**
     * What the process does while predictions stop coming at half load. A stall is the newest
     * prediction read having been sent more than {@link #STALL_MILLIS} ago (at half load it is at
     * most a few hundred milliseconds). Every 50 ms the sampler notes how late its own wake-up came
     * (a whole process held up, by the host or by a GC pause, makes every thread late) and the GC's
     * pause time; during a stall it also takes the top frames of the stream threads, the inference
     * workers, the producers' I/O threads and the broker's request, marker and coordinator threads.
     * Printed after the run, stacks most frequent first.
     */
    private static final class StallSampler implements AutoCloseable {

        static final long STALL_MILLIS = 500;
        private static final long TICK_MILLIS = 50;
        /** A wake-up this much later than asked for counts as a hiccup. */
        private static final long HICCUP_MILLIS = 25;
        private static final int FRAMES = 6;
        private static final List<String> WATCHED = List.of("StreamThread", "inference-for-", "kafka-producer-network",
                "request-handler", "TxnMarkerSender", "AddPartitionsToTxnSender", "group-coordinator",
                "transaction-coordinator");

        /** Event time of the newest prediction read, epoch milliseconds; 0 until the first. */
        final AtomicLong newestRead = new AtomicLong();
        private final Map<String, Integer> stacks = new HashMap<>();
        /** Per stall: start (epoch ms), longest lag (ms), hiccups within it (ms), GC pauses within it (ms). */
        private final List<long[]> stalls = new ArrayList<>();
        private final Thread thread = new Thread(this::sample, "bench-stall-sampler");
        private volatile boolean running = true;
        private int samples;
        private long hiccups;
        private long hiccupMillis;
        private long longestHiccup;

        StallSampler() {
            thread.setDaemon(true);
            thread.start();
        }

        private void sample() {
            final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long[] stall = null;
            long gcBefore = gcMillis();
            long before = System.nanoTime();
            while (running) {
                try {
                    TimeUnit.MILLISECONDS.sleep(TICK_MILLIS);
                } catch (final InterruptedException e) {
                    return;
                }
                final long now = System.nanoTime();
                final long late = TimeUnit.NANOSECONDS.toMillis(now - before) - TICK_MILLIS;
                before = now;
                final long gc = gcMillis();
                final long gcPaused = gc - gcBefore;
                gcBefore = gc;
                final long newest = newestRead.get();
                final long lag = newest == 0 ? 0 : System.currentTimeMillis() - newest;
                synchronized (this) {
                    if (late > HICCUP_MILLIS) {
                        hiccups++;
                        hiccupMillis += late;
                        longestHiccup = Math.max(longestHiccup, late);
                    }
                    if (lag <= STALL_MILLIS) {
                        stall = null;
                        continue;
                    }
                    if (stall == null) {
                        stall = new long[] {System.currentTimeMillis() - lag, 0, 0, 0};
                        stalls.add(stall);
                    }
                    stall[1] = lag;
                    stall[2] += Math.max(0, late);
                    stall[3] += gcPaused;
                    samples++;
                    for (final ThreadInfo info : threads.dumpAllThreads(false, false, FRAMES)) {
                        final String name = info.getThreadName();
                        WATCHED.stream().filter(name::contains).findFirst().ifPresent(group -> stacks.merge(
                                group + " " + info.getThreadState() + ": " + frames(info), 1, Integer::sum));
                    }
                }
            }
        }

        private static long gcMillis() {
            return ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
        }

        private static String frames(final ThreadInfo info) {
            final StringBuilder text = new StringBuilder();
            for (final StackTraceElement frame : info.getStackTrace()) {
                final String type = frame.getClassName();
                text.append(text.isEmpty() ? "" : " < ").append(type.substring(type.lastIndexOf('.') + 1))
                        .append('.').append(frame.getMethodName());
            }
            return text.toString();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join();
        }

        synchronized void print() {
            System.out.printf(Locale.ROOT, "         the sampler woke over %d ms late %d times (%d ms in all, at most"
                    + " %d ms); stalls (no prediction read sent in the last %d ms): %d%n", HICCUP_MILLIS, hiccups,
                    hiccupMillis, longestHiccup, STALL_MILLIS, stalls.size());
            for (final long[] stall : stalls) {
                System.out.printf(Locale.ROOT, "           from %s, up to %d ms behind; the sampler late %d ms in all,"
                        + " GC paused %d ms%n", java.time.Instant.ofEpochMilli(stall[0]), stall[1], stall[2],
                        stall[3]);
            }
            if (!stalls.isEmpty()) {
                System.out.printf(Locale.ROOT, "         during them, %d samples of the threads, most frequent stacks:%n",
                        samples);
            }
            stacks.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(40)
                    .forEach(entry -> System.out.printf(Locale.ROOT, "           %4d  %s%n", entry.getValue(),
                            entry.getKey()));
        }
    }

    /**
     * The load generator's producer and the checking consumer, made once for the whole benchmark:
     * made per round, their connections, the consumer's group and their setup code were work for
     * the broker and the JIT compiler in every measured round, work a steady stream does not bring.
     * The consumer reads every partition of the predictions topic by assignment, without a group.
     */
    private static final class LoadClients implements AutoCloseable {

        final KafkaConsumer<String, byte[]> consumer;
        final ImageProducer producer;

        LoadClients(final String bootstrap) {
            final Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
            consumer.assign(consumer.partitionsFor(Topics.PREDICTIONS).stream()
                    .map(partition -> new TopicPartition(partition.topic(), partition.partition())).toList());
            this.producer = new ImageProducer(bootstrap, Map.of("client.id", "bench-load"), Duration.ZERO);
        }

        @Override
        public void close() {
            producer.close();
            consumer.close();
        }
    }
}
