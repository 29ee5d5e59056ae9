package io.digitstream.stream.topology;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.ClassAccuracy;

/** The application's own metrics, named {@code digits_*} in Prometheus. */
public final class StreamMetrics {

    private final MeterRegistry registry;
    private final Counter imagesIn;
    private final Counter[] predictionsPerDigit = new Counter[DigitNetwork.CLASSES];
    private final DistributionSummary batchSize;
    private final Timer inferenceTime;
    private final Timer endToEndLatency;
    private final Timer untilRead;
    private final Timer batching;
    private final Timer inference;
    private final Timer queued;
    private final Timer collected;
    private final DistributionSummary confidence;
    private final Map<String, AtomicReference<Double>> accuracyPerClass = new ConcurrentHashMap<>();
    private final Map<String, Long> latestWindowPerClass = new ConcurrentHashMap<>();
    /** Pending join entries per task: [predictions awaiting a label, labels awaiting a prediction]. */
    private final Map<String, long[]> pendingByTask = new ConcurrentHashMap<>();
    private final Counter shadowPredictions;
    private final Counter shadowAgreements;
    private final Counter labelsUnmatched;
    private final Counter predictionsNeverLabeled;
    private final AtomicReference<Gauge> servingVersion = new AtomicReference<>();

    public StreamMetrics(final MeterRegistry registry) {
        this.registry = registry;
        imagesIn = Counter.builder("digits.images.in").description("Image events decoded and queued for inference")
                .register(registry);
        for (int digit = 0; digit < DigitNetwork.CLASSES; digit++) {
            predictionsPerDigit[digit] = Counter.builder("digits.predictions").tag("digit", Integer.toString(digit))
                    .description("Predictions made, by predicted digit").register(registry);
        }
        batchSize = DistributionSummary.builder("digits.inference.batch.size")
                .description("Images per forward pass").serviceLevelObjectives(1, 8, 32, 64, 128, 256, 512)
                .register(registry);
        inferenceTime = Timer.builder("digits.inference.time").description("Time of one batched forward pass")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(2)).register(registry);
        endToEndLatency = latency(Timer.builder("digits.latency")
                .description("From an image's event time to its prediction"));
        untilRead = stage("until-read");
        batching = stage("batching");
        inference = stage("inference");
        queued = handOverPart("queued");
        collected = handOverPart("collected");
        confidence = DistributionSummary.builder("digits.prediction.confidence")
                .description("Probability of the predicted digit")
                .serviceLevelObjectives(0.5, 0.8, 0.9, 0.95, 0.99, 0.999).register(registry);
        Gauge.builder("digits.labels.awaiting.prediction", () -> pendingTotal(1))
                .description("Late labels held until their prediction arrives").register(registry);
        Gauge.builder("digits.predictions.awaiting.label", () -> pendingTotal(0))
                .description("Unlabeled predictions held for a late label").register(registry);
        shadowPredictions = Counter.builder("digits.shadow.predictions")
                .description("Images the shadow model classified beside the live one").register(registry);
        shadowAgreements = Counter.builder("digits.shadow.agreements")
                .description("Images the shadow model gave the live model's digit").register(registry);
        labelsUnmatched = Counter.builder("digits.labels.unmatched")
                .description("Labels whose prediction did not arrive within the join window").register(registry);
        predictionsNeverLabeled = Counter.builder("digits.predictions.unlabeled")
                .description("Predictions whose label did not arrive within the join window").register(registry);
    }

    private Timer stage(final String stage) {
        return latency(Timer.builder("digits.latency.stage").tag("stage", stage)
                .description("The latency in parts: until-read (event time to the app reading the image), batching"
                        + " (to its batch leaving for the network), inference (queue and forward pass)"));
    }

    private Timer handOverPart(final String part) {
        return latency(Timer.builder("digits.inference.handover").tag("part", part)
                .description("Per batch, the inference stage's wait besides the forward pass: queued (handed to"
                        + " the inference thread until its forward pass starts), collected (forward pass done"
                        + " until the stream thread forwards its predictions)"));
    }

    /** A histogram of waits from a millisecond to half a minute. */
    private Timer latency(final Timer.Builder builder) {
        return builder.publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    }

    /** Records how long one batch waited for its forward pass, and then for its stream thread. */
    public void handOver(final long queuedNanos, final long collectedNanos) {
        queued.record(Math.max(0, queuedNanos), TimeUnit.NANOSECONDS);
        collected.record(Math.max(0, collectedNanos), TimeUnit.NANOSECONDS);
    }

    /** Records the parts of one image's latency, in milliseconds. */
    public void stages(final long untilReadMillis, final long batchingMillis, final long inferenceMillis) {
        untilRead.record(Math.max(0, untilReadMillis), TimeUnit.MILLISECONDS);
        batching.record(Math.max(0, batchingMillis), TimeUnit.MILLISECONDS);
        inference.record(Math.max(0, inferenceMillis), TimeUnit.MILLISECONDS);
    }

    /**
     * Records the serving model's version as an info metric {@code digits_model_version_info{version=...}}
     * of value 1; the version served before leaves it (Prometheus gives an info metric no other value).
     */
    public void modelVersion(final String version) {
        synchronized (this) {
            final Gauge before = servingVersion.get();
            if (before != null && before.getId().getTag("version").equals(version)) {
                return;
            }
            servingVersion.set(Gauge.builder("digits.model.version.info", () -> 1).tag("version", version)
                    .description("The version of the model serving predictions").register(registry));
            if (before != null) {
                registry.remove(before);
            }
        }
    }

    /** Counts one shadow prediction, and whether it agreed with the live model's. */
    public void shadowPrediction(final boolean agreed) {
        shadowPredictions.increment();
        if (agreed) {
            shadowAgreements.increment();
        }
    }

    public void imageIn() {
        imagesIn.increment();
    }

    public void batch(final int size, final long nanos) {
        batchSize.record(size);
        inferenceTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void prediction(final int digit, final double probability, final long latencyMillis) {
        predictionsPerDigit[digit].increment();
        confidence.record(probability);
        endToEndLatency.record(Math.max(0, latencyMillis), TimeUnit.MILLISECONDS);
    }

    public Map<String, Double> deadLettersByReason() {
        final Map<String, Double> byReason = new java.util.TreeMap<>();
        registry.find("digits.dead.letters").counters()
                .forEach(counter -> byReason.put(counter.getId().getTag("reason"), counter.count()));
        return byReason;
    }

    public void deadLetter(final String reason) {
        Counter.builder("digits.dead.letters").tag("reason", reason)
                .description("Records sent to the dead-letter topic, by reason").register(registry).increment();
    }

    public void pending(final String task, final long predictionsAwaitingLabel, final long labelsAwaitingPrediction) {
        pendingByTask.put(task, new long[] {predictionsAwaitingLabel, labelsAwaitingPrediction});
    }

    /** Drops a task's waiting counts when it closes here: it may be moving to another instance. */
    public void pendingClosed(final String task) {
        pendingByTask.remove(task);
    }

    private double pendingTotal(final int index) {
        return pendingByTask.values().stream().mapToLong(counts -> counts[index]).sum();
    }

    public void labelUnmatched() {
        labelsUnmatched.increment();
    }

    public void predictionNeverLabeled() {
        predictionsNeverLabeled.increment();
    }

    /**
     * The label join as this instance sees it: what waits now for its other half, and what gave up
     * waiting after the join window since the app started.
     *
     * @param labelsAwaitingImage   late labels held until their image's prediction arrives
     * @param predictionsAwaitingLabel predictions of unlabeled images held for a late label
     * @param labelsUnmatched       labels whose image did not arrive within the join window
     * @param predictionsUnlabeled  predictions whose label did not arrive within the join window
     */
    public record LabelJoins(long labelsAwaitingImage, long predictionsAwaitingLabel, long labelsUnmatched,
            long predictionsUnlabeled) {
    }

    public LabelJoins labelJoins() {
        return new LabelJoins((long) pendingTotal(1), (long) pendingTotal(0), (long) labelsUnmatched.count(),
                (long) predictionsNeverLabeled.count());
    }

    /**
     * Keeps the accuracy of the newest window of each class and model version as {@code
     * digits_accuracy{class=...,version=...}}: the live and the shadow model side by side.
     */
    public void accuracy(final ClassAccuracy row) {
        final String key = row.trueClass() + "/" + row.modelVersion();
        final Long latest = latestWindowPerClass.merge(key, row.windowStart(), Math::max);
        if (latest != row.windowStart()) {
            return;
        }
        accuracyPerClass.computeIfAbsent(key, k -> {
            final AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
            Gauge.builder("digits.accuracy", value, AtomicReference::get).tag("class", row.trueClass())
                    .tag("version", String.valueOf(row.modelVersion()))
                    .description("Accuracy in the newest window, by true class (all = every class) and model version")
                    .register(registry);
            return value;
        }).set(row.accuracy());
    }

    public MeterRegistry registry() {
        return registry;
    }
}
