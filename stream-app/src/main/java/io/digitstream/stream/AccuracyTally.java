package io.digitstream.stream;

import org.apache.kafka.streams.kstream.Window;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.ClassAccuracy;

/**
 * Running counts of one true class (or all): the partial counts of a task between two flushes of
 * the {@link AccuracyCombiner}, and the totals of a window once those partials are merged.
 */
public final class AccuracyTally {

    @JsonProperty
    private long total;
    @JsonProperty
    private long correct;
    @JsonProperty
    private long[] predictedCounts = new long[DigitNetwork.CLASSES];
    @JsonProperty
    private String modelVersion;
    @JsonProperty
    private long latestEventTime;

    /** Counts one labelled prediction with the given event time. */
    public AccuracyTally updateFrom(final LabeledPrediction prediction, final long eventTime) {
        total++;
        if (prediction.correct()) {
            correct++;
        }
        predictedCounts[prediction.predicted()]++;
        modelVersion = prediction.modelVersion();
        latestEventTime = Math.max(latestEventTime, eventTime);
        return this;
    }

    /** Adds another tally's counts to this one. */
    public AccuracyTally merge(final AccuracyTally other) {
        total += other.total;
        correct += other.correct;
        for (int digit = 0; digit < predictedCounts.length; digit++) {
            predictedCounts[digit] += other.predictedCounts[digit];
        }
        if (other.modelVersion != null) {
            modelVersion = other.modelVersion;
        }
        latestEventTime = Math.max(latestEventTime, other.latestEventTime);
        return this;
    }

    public long latestEventTime() {
        return latestEventTime;
    }

    public ClassAccuracy toRecord(final String trueClass, final Window window) {
        return new ClassAccuracy(trueClass, window.start(), window.end(), total, correct,
                total == 0 ? 0 : (double) correct / total, predictedCounts.clone(), modelVersion);
    }
}
