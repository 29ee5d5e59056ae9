package io.digitstream.stream.topology;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.digitstream.schemas.ClassAccuracy;

/**
 * Counts labeled predictions per true class (and for all classes) and model version inside the
 * task, and forwards the partial counts every flush interval, keyed by class and version ({@link
 * #groupKey}), to be merged into the accuracy windows: the live and the shadow model apart.
 *
 * <p>A map-side combiner: without it every labeled image crossed the repartition topic twice
 * (once for its class, once for "all") and updated ten window-store entries, which cost about a
 * quarter of the app's throughput. Partials are kept per bucket of one window advance, so all the
 * images of a partial fall into the same hopping windows, and in a changelogged store, so exactly-
 * once holds for counts not yet forwarded.
 *
 * <p>The flush timer runs only while there are counts to forward: Kafka Streams commits a task
 * after every punctuation, so a timer left running made an idle app commit twice a second.
 */
public final class AccuracyCombiner implements Processor<String, LabeledPrediction, String, AccuracyTally> {

    public static final String PARTIALS_STORE = "accuracy-partials";
    private static final char BUCKET_SEPARATOR = '@';
    /** Between class and version; a class is a digit or "all", a version has no '/'. */
    private static final char VERSION_SEPARATOR = '/';

    /** How far inside the grace period an old labeled prediction is placed; see {@link #countedAt}. */
    private static final Duration MAX_GRACE_MARGIN = Duration.ofSeconds(30);

    private final Duration advance;
    private final Duration flushInterval;
    private final Duration grace;
    private ProcessorContext<String, AccuracyTally> context;
    private KeyValueStore<String, AccuracyTally> partials;
    /** The store's contents, so counting reads nothing back from it. */
    private final Map<String, AccuracyTally> current = new HashMap<>();
    /** The flush timer while it runs, else null. */
    private Cancellable flushTimer;

    public AccuracyCombiner(final Duration advance, final Duration flushInterval, final Duration grace) {
        this.advance = advance;
        this.flushInterval = flushInterval;
        this.grace = grace;
    }

    @Override
    public void init(final ProcessorContext<String, AccuracyTally> processorContext) {
        this.context = processorContext;
        this.partials = processorContext.getStateStore(PARTIALS_STORE);
        UnloggedDeletes.skip(partials);
        // Initialized again when its task resumes after a rebalance: the store is the truth, and the
        // earlier run's timer is gone.
        current.clear();
        flushTimer = null;
        try (KeyValueIterator<String, AccuracyTally> restored = partials.all()) {
            restored.forEachRemaining(partial -> current.put(partial.key, partial.value));
        }
        if (!current.isEmpty()) {
            startFlushTimer();
        }
    }

    private void startFlushTimer() {
        if (flushTimer == null) {
            flushTimer = context.schedule(flushInterval, PunctuationType.WALL_CLOCK_TIME, now -> {
                if (current.isEmpty()) {
                    flushTimer.cancel();
                    flushTimer = null;
                } else {
                    flush();
                }
            });
        }
    }

    @Override
    public void process(final Record<String, LabeledPrediction> record) {
        startFlushTimer();
        final long time = countedAt(record.timestamp());
        final long bucket = time - Math.floorMod(time, advance.toMillis());
        count(groupKey(Integer.toString(record.value().label()), record.value().modelVersion()), bucket,
                record.value(), time);
        count(groupKey(ClassAccuracy.ALL_CLASSES, record.value().modelVersion()), bucket, record.value(), time);
    }

    /**
     * Where a labeled prediction counts: at its image's event time while the windows holding it are
     * still open, else a little inside the grace period, in the oldest windows still open. Producers
     * may send images dated long ago; counted at their own time they would be dropped as too late for
     * windows long closed, and every labeled prediction is to count once.
     */
    private long countedAt(final long eventTime) {
        final long margin = Math.min(grace.toMillis() / 2, MAX_GRACE_MARGIN.toMillis());
        return Math.max(eventTime, context.currentSystemTimeMs() - grace.toMillis() + margin);
    }

    /** The key accuracy is counted under: a true class and a model version, each version counted apart. */
    static String groupKey(final String trueClass, final String modelVersion) {
        return trueClass + VERSION_SEPARATOR + modelVersion;
    }

    /**
     * The true class of a {@link #groupKey}; a key of the true class alone, as state written before
     * the app counted versions apart holds, is its own class.
     */
    static String trueClass(final String groupKey) {
        final int separator = groupKey.indexOf(VERSION_SEPARATOR);
        return separator < 0 ? groupKey : groupKey.substring(0, separator);
    }

    private void count(final String trueClass, final long bucket, final LabeledPrediction prediction,
            final long time) {
        final String key = trueClass + BUCKET_SEPARATOR + bucket;
        final AccuracyTally tally = current.computeIfAbsent(key, k -> new AccuracyTally())
                .updateFrom(prediction, time);
        partials.put(key, tally);
    }

    /** Forwards every partial, stamped with the latest event time it counts, and forgets it. */
    void flush() {
        for (final Map.Entry<String, AccuracyTally> partial : current.entrySet()) {
            final String key = partial.getKey();
            final String group = key.substring(0, key.lastIndexOf(BUCKET_SEPARATOR));
            context.forward(new Record<>(group, partial.getValue(), partial.getValue().latestEventTime()));
            partials.delete(key);
        }
        current.clear();
    }
}
