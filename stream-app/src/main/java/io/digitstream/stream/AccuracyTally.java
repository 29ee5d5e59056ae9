package io.digitstream.stream;

import org.apache.kafka.streams.kstream.Window;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.ClassAccuracy;

/** The running counts of one true class (or all) in one window. */
public final class AccuracyTally {

    @JsonProperty
    private long total;
    @JsonProperty
    private long correct;
    @JsonProperty
    private long[] predictedCounts = new long[DigitNetwork.CLASSES];
    @JsonProperty
    private String modelVersion;

    public AccuracyTally updateFrom(final LabeledPrediction prediction) {
        total++;
        if (prediction.correct()) {
            correct++;
        }
        predictedCounts[prediction.predicted()]++;
        modelVersion = prediction.modelVersion();
        return this;
    }

    public ClassAccuracy toRecord(final String trueClass, final Window window) {
        return new ClassAccuracy(trueClass, window.start(), window.end(), total, correct,
                total == 0 ? 0 : (double) correct / total, predictedCounts.clone(), modelVersion);
    }
}
