package io.digitstream.stream.service;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

import com.fasterxml.jackson.annotation.JsonProperty;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.topology.StreamMetrics;

/**
 * What the dashboard shows, read back from the output topics by a {@code read_committed} consumer,
 * so the page shows what the topics hold: throughput, latency, the newest accuracy window per class
 * and its confusion rows, and the latest predictions with their images.
 *
 * <p>It reads every prediction the app makes, so it keeps them as the bytes it received and parses
 * only the few the page asks for (docs/benchmarks.md).
 */
public final class DashboardFeed implements AutoCloseable {

    static final int RECENT = 24;
    private static final int LOOKUP = 2_000;
    private static final int LATENCY_SAMPLE = 2_000;
    private static final Duration RATE_WINDOW = Duration.ofSeconds(10);
    /** Accuracy windows kept per model version for the chart: two hours at the default advance. */
    private static final int HISTORY_WINDOWS = 120;
    /** Model versions whose accuracy is kept; the oldest seen goes first. */
    private static final int MAX_VERSIONS = 20;
    private static final Logger log = LoggerFactory.getLogger(DashboardFeed.class);
    private static final JsonSerde<Prediction> PREDICTIONS = JsonSerde.serdeFor(Prediction.class);
    private static final JsonSerde<ClassAccuracy> ACCURACY = JsonSerde.serdeFor(ClassAccuracy.class);

    /** One prediction as the page shows it. */
    public record RecentPrediction(String id, int predicted, double confidence, Integer label, Boolean correct,
            long latencyMs, @JsonProperty("pixelsBase64") byte[] pixels) {
    }

    private record Received(byte[] json, long latencyMs) {
    }

    /** The models serving, as this instance sees them: live, shadow (or null), and the control record (or null). */
    public record Models(String live, String shadow, ModelControl control) {
    }

    /** The accuracy of all classes in one window of one model version. */
    public record AccuracyPoint(long windowStart, long windowEnd, double accuracy, long total) {
    }

    /**
     * Everything the page needs, at one moment: the live model's newest accuracy rows and confusion
     * rows, the shadow model's rows, each version's accuracy window by window, and the label join.
     */
    public record Snapshot(String modelVersion, long predictions, double imagesPerSecond, Map<String, Long> latencyMs,
            List<ClassAccuracy> accuracy, long[][] confusion, Map<String, Double> deadLetters,
            List<RecentPrediction> recent, String shadowVersion, List<ClassAccuracy> shadowAccuracy,
            Map<String, List<AccuracyPoint>> accuracyByVersion, ModelControl models, StreamMetrics.LabelJoins labels) {
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private final StreamMetrics metrics;
    private final RecentImages images;
    private final Supplier<Models> models;
    /** The newest predictions, newest first, as received, with their images' pixels. */
    private final Deque<Received> recent = new ArrayDeque<>();
    /** The latest predictions' JSON by image id, for the drawing pad's lookups. */
    private final Map<String, byte[]> byId = new LinkedHashMap<>(LOOKUP, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(final Map.Entry<String, byte[]> eldest) {
            return size() > LOOKUP;
        }
    };
    private final Deque<long[]> arrivals = new ArrayDeque<>();
    /** The newest row of each class, per model version. */
    private final Map<String, Map<String, ClassAccuracy>> newestRows = new LinkedHashMap<>();
    /** Per model version, its windows' accuracy over all classes, oldest first. */
    private final Map<String, TreeMap<Long, ClassAccuracy>> history = new LinkedHashMap<>();
    private volatile Consumer<ClassAccuracy> onAccuracy = row -> {
    };
    private long predictions;
    private volatile boolean running = true;

    /**
     * @param consumerConfig the cluster and the user's consumer settings ({@link AppConfig#consumerConfig()})
     */
    public DashboardFeed(final Map<String, Object> consumerConfig, final StreamMetrics metrics,
            final RecentImages images, final Supplier<Models> models) {
        final Properties props = new Properties();
        props.putAll(consumerConfig);
        // No group: it reads every partition itself, so it needs no group ACL and leaves no group behind.
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.metrics = metrics;
        this.images = images;
        this.models = models;
        this.thread = new Thread(this::run, "dashboard-feed");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        try {
            final List<TopicPartition> partitions = Stream.of(Topics.PREDICTIONS, Topics.ACCURACY)
                    .flatMap(topic -> consumer.partitionsFor(topic).stream())
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                for (final ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(250))) {
                    try {
                        if (Topics.PREDICTIONS.equals(record.topic())) {
                            onPrediction(record);
                        } else {
                            onAccuracy(ACCURACY.deserialize(record.topic(), record.value()));
                        }
                    } catch (final RuntimeException e) {
                        // Another client may write to the output topics too; its records are not ours to show.
                        log.warn("Dashboard skips {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                                e.getMessage());
                    }
                }
            }
        } catch (final WakeupException e) {
            // closing
        } catch (final RuntimeException e) {
            log.error("Dashboard feed stopped", e);
        } finally {
            consumer.close();
        }
    }

    /**
     * Counts a prediction and samples its latency: from the image's event time, which the prediction
     * record carries as its timestamp, to now, when it is committed and read.
     */
    private synchronized void onPrediction(final ConsumerRecord<String, byte[]> record) {
        predictions++;
        byId.put(record.key(), record.value());
        final long now = System.currentTimeMillis();
        arrivals.addLast(new long[] {now, now - record.timestamp()});
        while (arrivals.size() > LATENCY_SAMPLE
                || (!arrivals.isEmpty() && arrivals.peekFirst()[0] < now - RATE_WINDOW.toMillis() * 6)) {
            arrivals.removeFirst();
        }
        recent.addFirst(new Received(record.value(), now - record.timestamp()));
        while (recent.size() > RECENT) {
            recent.removeLast();
        }
    }

    private void onAccuracy(final ClassAccuracy row) {
        if (row == null || row.trueClass() == null || row.predictedCounts() == null) {
            throw new IllegalArgumentException("not an accuracy row of this app");
        }
        synchronized (this) {
            final String version = String.valueOf(row.modelVersion());
            if (!newestRows.containsKey(version) && newestRows.size() >= MAX_VERSIONS) {
                final String oldest = newestRows.keySet().iterator().next();
                newestRows.remove(oldest);
                history.remove(oldest);
            }
            final Map<String, ClassAccuracy> rows = newestRows.computeIfAbsent(version, v -> new HashMap<>());
            final ClassAccuracy current = rows.get(row.trueClass());
            if (current == null || row.windowStart() >= current.windowStart()) {
                rows.put(row.trueClass(), row);
            }
            if (ClassAccuracy.ALL_CLASSES.equals(row.trueClass())) {
                final TreeMap<Long, ClassAccuracy> windows = history.computeIfAbsent(version, v -> new TreeMap<>());
                windows.put(row.windowStart(), row);
                while (windows.size() > HISTORY_WINDOWS) {
                    windows.pollFirstEntry();
                }
            }
        }
        onAccuracy.accept(row);
    }

    /** Tells {@code listener} every accuracy row as it is read back committed, on the feed's thread. */
    public void onAccuracy(final Consumer<ClassAccuracy> listener) {
        this.onAccuracy = listener;
    }

    /** The prediction of an image, once it is committed, or null. */
    public synchronized Prediction prediction(final String id) {
        final byte[] json = byId.get(id);
        return json == null ? null : parse(json);
    }

    /** A prediction as read from the topic, or null when another client wrote something else there. */
    private static Prediction parse(final byte[] json) {
        try {
            return PREDICTIONS.deserialize(Topics.PREDICTIONS, json);
        } catch (final RuntimeException e) {
            return null;
        }
    }

    public synchronized Snapshot snapshot() {
        final long now = System.currentTimeMillis();
        final long inWindow = arrivals.stream().filter(a -> a[0] >= now - RATE_WINDOW.toMillis()).count();
        final long[] latencies = arrivals.stream().mapToLong(a -> a[1]).sorted().toArray();
        final Map<String, Long> latency = new LinkedHashMap<>();
        for (final double q : new double[] {0.5, 0.9, 0.99}) {
            latency.put("p" + Math.round(q * 100), latencies.length == 0 ? null
                    : latencies[Math.min(latencies.length - 1, (int) Math.ceil(latencies.length * q) - 1)]);
        }
        final Models serving = models.get();
        final List<ClassAccuracy> rows = rowsOf(serving.live());
        final Map<String, ClassAccuracy> live = newestRows.getOrDefault(serving.live(), Map.of());
        final long[][] confusion = new long[DigitNetwork.CLASSES][];
        for (int digit = 0; digit < DigitNetwork.CLASSES; digit++) {
            final ClassAccuracy row = live.get(Integer.toString(digit));
            confusion[digit] = row == null ? new long[DigitNetwork.CLASSES]
                    : Arrays.copyOf(row.predictedCounts(), DigitNetwork.CLASSES);
        }
        final Map<String, List<AccuracyPoint>> byVersion = new LinkedHashMap<>();
        history.forEach((version, windows) -> byVersion.put(version, windows.values().stream()
                .map(row -> new AccuracyPoint(row.windowStart(), row.windowEnd(), row.accuracy(), row.total()))
                .toList()));
        return new Snapshot(serving.live(), predictions, inWindow / (double) RATE_WINDOW.toSeconds(), latency, rows,
                confusion, metrics.deadLettersByReason(), recent.stream().map(this::toRecent)
                        .filter(java.util.Objects::nonNull).toList(),
                serving.shadow(), serving.shadow() == null ? List.of() : rowsOf(serving.shadow()), byVersion,
                serving.control(), metrics.labelJoins());
    }

    private List<ClassAccuracy> rowsOf(final String version) {
        final List<ClassAccuracy> rows = new ArrayList<>(newestRows.getOrDefault(version, Map.of()).values());
        rows.sort((a, b) -> a.trueClass().compareTo(b.trueClass()));
        return rows;
    }

    /** Parsed, with its image's pixels, only when the page asks: most predictions are never shown. */
    private RecentPrediction toRecent(final Received received) {
        final Prediction p = parse(received.json());
        if (p == null) {
            return null;
        }
        return new RecentPrediction(p.id(), p.predicted(), p.confidence(), p.label(), p.correct(),
                received.latencyMs(), images.pixels(p.id()));
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(5).toMillis());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
