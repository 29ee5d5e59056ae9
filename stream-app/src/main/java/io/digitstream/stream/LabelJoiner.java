package io.digitstream.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.Prediction;

/**
 * Joins predictions with their true digits by image id. A prediction whose image carried a label
 * passes straight through; otherwise whichever of prediction and late label comes first waits, up to
 * the join window of wall-clock time, for the other. Both waiting sets are changelogged stores, and
 * what expires is counted (labels that never matched, predictions never labelled).
 *
 * <p>A DSL stream-stream join would do the matching but would not say how much is still waiting or
 * has expired, which an operator watching accuracy needs to know.
 */
public final class LabelJoiner implements Processor<String, JoinInput, String, LabeledPrediction> {

    public static final String AWAITING_LABEL_STORE = "predictions-awaiting-label";
    public static final String AWAITING_PREDICTION_STORE = "labels-awaiting-prediction";

    /** How often expired entries are swept, as a share of the join window, within bounds. */
    private static final int SWEEPS_PER_WINDOW = 10;
    private static final Duration MIN_SWEEP = Duration.ofMillis(100);
    private static final Duration MAX_SWEEP = Duration.ofSeconds(30);

    private final Duration window;
    private final StreamMetrics metrics;
    private ProcessorContext<String, LabeledPrediction> context;
    private KeyValueStore<String, PendingPrediction> awaitingLabel;
    private KeyValueStore<String, PendingLabel> awaitingPrediction;

    public LabelJoiner(final Duration window, final StreamMetrics metrics) {
        this.window = window;
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
    }

    @Override
    public void process(final Record<String, JoinInput> record) {
        final JoinInput input = record.value();
        if (input.prediction() != null) {
            onPrediction(record, input.prediction());
        } else {
            onLabel(record, input.label());
        }
    }

    private void onPrediction(final Record<String, JoinInput> record, final Prediction prediction) {
        Integer label = prediction.label();
        if (label == null) {
            final PendingLabel late = awaitingPrediction.delete(prediction.id());
            if (late == null) {
                awaitingLabel.put(prediction.id(), new PendingPrediction(prediction.predicted(),
                        prediction.modelVersion(), prediction.eventTime(), context.currentSystemTimeMs()));
                return;
            }
            label = late.label();
        }
        emit(record, new LabeledPrediction(prediction.id(), label, prediction.predicted(), prediction.modelVersion()),
                prediction.eventTime());
    }

    private void onLabel(final Record<String, JoinInput> record, final DigitLabel label) {
        if (label.id() == null || label.id().isBlank()) {
            throw new InvalidMessageException("missing-id", "label has no id");
        }
        if (label.label() == null || label.label() < 0 || label.label() >= DigitNetwork.CLASSES) {
            throw new InvalidMessageException("bad-label", "label " + label.label() + " for image " + label.id()
                    + " is not a digit 0-9");
        }
        final PendingPrediction prediction = awaitingLabel.delete(label.id());
        if (prediction != null) {
            emit(record, new LabeledPrediction(label.id(), label.label(), prediction.predicted(),
                    prediction.modelVersion()), prediction.eventTime());
        } else {
            awaitingPrediction.put(label.id(), new PendingLabel(label.label(), context.currentSystemTimeMs()));
        }
    }

    private void emit(final Record<String, JoinInput> record, final LabeledPrediction labelled, final long eventTime) {
        // The labelled prediction keeps the image's event time, so it counts in the image's window.
        context.forward(new Record<>(labelled.id(), labelled, eventTime, record.headers()));
    }

    private void expire(final long now) {
        final long cutoff = now - window.toMillis();
        final List<String> expiredPredictions = new ArrayList<>();
        long waitingPredictions = 0;
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
        long waitingLabels = 0;
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
            metrics.predictionNeverLabelled();
        });
        expiredLabels.forEach(id -> {
            awaitingPrediction.delete(id);
            metrics.labelUnmatched();
        });
        metrics.pending(context.taskId().toString(), waitingPredictions, waitingLabels);
    }
}
