package io.digitstream.stream.topology;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.digitstream.schemas.InvalidMessageException;

/**
 * Joins predictions with their true digits by image id. The topology counts an image that carried
 * its label where it was classified; one that reaches this join all the same passes straight through.
 * Otherwise whichever of prediction and late label comes first waits, up to the join window of
 * wall-clock time, for the other. Both waiting sets are changelogged stores, and
 * what expires is counted (labels that never matched, predictions never labeled).
 *
 * <p>Unlabeled images' predictions and late labels reach it through the app's own repartition topic,
 * partitioned by image id ({@link DigitStreamTopology#JOIN_BY_ID}): an image and its label meet in
 * one task whichever partitioner, client library or explicit partition their producers used.
 *
 * <p>A DSL stream-stream join would do the matching but would not say how much is still waiting or
 * has expired, which an operator watching accuracy needs to know.
 *
 * <p>Each waiting set holds at most {@code maxPending} entries per task, whatever producers send
 * (labels for ids never seen, say): past it a prediction is counted as never labeled at once, and
 * a label goes to the dead-letter topic as {@code too-many-pending-labels}.
 */
public final class LabelJoiner implements Processor<String, JoinInput, String, LabeledPrediction> {

    public static final String AWAITING_LABEL_STORE = "predictions-awaiting-label";
    public static final String AWAITING_PREDICTION_STORE = "labels-awaiting-prediction";

    /** How often expired entries are swept, as a share of the join window, within bounds. */
    private static final int SWEEPS_PER_WINDOW = 10;
    private static final Duration MIN_SWEEP = Duration.ofMillis(100);
    private static final Duration MAX_SWEEP = Duration.ofSeconds(30);

    private final Duration window;
    private final int maxPending;
    private final StreamMetrics metrics;
    /** Entries in each waiting set: counted at every sweep, and counted up as they are added between sweeps. */
    private long waitingPredictions;
    private long waitingLabels;
    private ProcessorContext<String, LabeledPrediction> context;
    private KeyValueStore<String, PendingPrediction> awaitingLabel;
    private KeyValueStore<String, PendingLabel> awaitingPrediction;

    public LabelJoiner(final Duration window, final int maxPending, final StreamMetrics metrics) {
        this.window = window;
        this.maxPending = maxPending;
        this.metrics = metrics;
    }

    @Override
    public void init(final ProcessorContext<String, LabeledPrediction> processorContext) {
        this.context = processorContext;
        this.awaitingLabel = processorContext.getStateStore(AWAITING_LABEL_STORE);
        this.awaitingPrediction = processorContext.getStateStore(AWAITING_PREDICTION_STORE);
        Duration sweep = window.dividedBy(SWEEPS_PER_WINDOW);
        sweep = sweep.compareTo(MIN_SWEEP) < 0 ? MIN_SWEEP : sweep.compareTo(MAX_SWEEP) > 0 ? MAX_SWEEP : sweep;
        processorContext.schedule(sweep, PunctuationType.WALL_CLOCK_TIME, this::expire);
        waitingPredictions = count(awaitingLabel);
        waitingLabels = count(awaitingPrediction);
    }

    private static long count(final KeyValueStore<String, ?> store) {
        long count = 0;
        try (KeyValueIterator<String, ?> all = store.all()) {
            while (all.hasNext()) {
                all.next();
                count++;
            }
        }
        return count;
    }

    @Override
    public void process(final Record<String, JoinInput> record) {
        if (record.value().isPrediction()) {
            onPrediction(record, record.key(), record.value());
        } else {
            onLabel(record, record.key(), record.value().label());
        }
    }

    private void onPrediction(final Record<String, JoinInput> record, final String id, final JoinInput prediction) {
        Integer label = prediction.label();
        if (label == null) {
            final PendingLabel late = awaitingPrediction.delete(id);
            if (late == null) {
                if (waitingPredictions >= maxPending) {
                    metrics.predictionNeverLabeled();
                    return;
                }
                awaitingLabel.put(id, new PendingPrediction(prediction.predicted(), prediction.modelVersion(),
                        prediction.eventTime(), context.currentSystemTimeMs(), prediction.shadowPredicted(),
                        prediction.shadowVersion()));
                waitingPredictions++;
                return;
            }
            waitingLabels--;
            label = late.label();
        }
        emit(record, new LabeledPrediction(id, label, prediction.predicted(), prediction.modelVersion()),
                prediction.eventTime());
        if (prediction.shadowPredicted() != null) {
            emit(record, new LabeledPrediction(id, label, prediction.shadowPredicted(), prediction.shadowVersion()),
                    prediction.eventTime());
        }
    }

    /** A label checked by {@link DigitStreamTopology.LabelCheck}: an id and a digit. */
    private void onLabel(final Record<String, JoinInput> record, final String id, final int label) {
        final PendingPrediction prediction = awaitingLabel.delete(id);
        if (prediction != null) {
            waitingPredictions--;
            emit(record, new LabeledPrediction(id, label, prediction.predicted(), prediction.modelVersion()),
                    prediction.eventTime());
            if (prediction.shadowPredicted() != null) {
                emit(record, new LabeledPrediction(id, label, prediction.shadowPredicted(),
                        prediction.shadowVersion()), prediction.eventTime());
            }
        } else {
            if (waitingLabels >= maxPending) {
                throw new InvalidMessageException("too-many-pending-labels", "label for image " + id
                        + " arrived while " + waitingLabels + " labels wait for their images, the limit"
                        + " (label.join.max.pending); labels should follow their images within "
                        + window.toSeconds() + " s");
            }
            awaitingPrediction.put(id, new PendingLabel(label, context.currentSystemTimeMs()));
            waitingLabels++;
        }
    }

    private void emit(final Record<String, JoinInput> record, final LabeledPrediction labeled, final long eventTime) {
        // The labeled prediction keeps the image's event time, so it counts in the image's window,
        // but never one ahead of the clock (a producer's, within the tolerated skew).
        context.forward(new Record<>(labeled.id(), labeled, Math.min(eventTime, context.currentSystemTimeMs()),
                record.headers()));
    }

    @Override
    public void close() {
        metrics.pendingClosed(context.taskId().toString());
    }

    private void expire(final long now) {
        final long cutoff = now - window.toMillis();
        final List<String> expiredPredictions = new ArrayList<>();
        waitingPredictions = 0;
        try (KeyValueIterator<String, PendingPrediction> all = awaitingLabel.all()) {
            while (all.hasNext()) {
                final var entry = all.next();
                if (entry.value.arrivedAt() < cutoff) {
                    expiredPredictions.add(entry.key);
                } else {
                    waitingPredictions++;
                }
            }
        }
        final List<String> expiredLabels = new ArrayList<>();
        waitingLabels = 0;
        try (KeyValueIterator<String, PendingLabel> all = awaitingPrediction.all()) {
            while (all.hasNext()) {
                final var entry = all.next();
                if (entry.value.arrivedAt() < cutoff) {
                    expiredLabels.add(entry.key);
                } else {
                    waitingLabels++;
                }
            }
        }
        expiredPredictions.forEach(id -> {
            awaitingLabel.delete(id);
            metrics.predictionNeverLabeled();
        });
        expiredLabels.forEach(id -> {
            awaitingPrediction.delete(id);
            metrics.labelUnmatched();
        });
        metrics.pending(context.taskId().toString(), waitingPredictions, waitingLabels);
    }
}
