package io.digitstream.stream.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.serialization.Serde;
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

    /** Counts one labeled prediction with the given event time. */
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

    /**
     * The binary form in the partials store, the repartition topic and the window store: the
     * partials store takes two writes per labeled image, where JSON cost more than the rest of its
     * handling (docs/benchmarks.md). Layout: format byte, total, correct, the ten counts, latest event time
     * (8 bytes each), then the model version in UTF-8 (absent when unknown, after a flag byte).
     */
    public static Serde<AccuracyTally> serde() {
        return new BinaryForm();
    }

    private static final class BinaryForm extends BinaryStateSerde<AccuracyTally> {

        private static final int COUNTS = (2 + DigitNetwork.CLASSES + 1) * Long.BYTES;

        BinaryForm() {
            super((byte) 1, 1 + COUNTS + 1, "accuracy tally");
        }

        @Override
        ByteBuffer write(final AccuracyTally tally) {
            final byte[] version = tally.modelVersion == null ? new byte[0]
                    : tally.modelVersion.getBytes(StandardCharsets.UTF_8);
            final ByteBuffer buffer = allocate(COUNTS + 1 + version.length).putLong(tally.total).putLong(tally.correct);
            for (final long count : tally.predictedCounts) {
                buffer.putLong(count);
            }
            return buffer.putLong(tally.latestEventTime).put((byte) (tally.modelVersion == null ? 0 : 1)).put(version);
        }

        @Override
        AccuracyTally read(final ByteBuffer buffer) {
            final AccuracyTally tally = new AccuracyTally();
            tally.total = buffer.getLong();
            tally.correct = buffer.getLong();
            for (int digit = 0; digit < DigitNetwork.CLASSES; digit++) {
                tally.predictedCounts[digit] = buffer.getLong();
            }
            tally.latestEventTime = buffer.getLong();
            if (buffer.get() != 0) {
                tally.modelVersion = new String(buffer.array(), buffer.position(), buffer.remaining(),
                        StandardCharsets.UTF_8);
            }
            return tally;
        }
    }

    public ClassAccuracy toRecord(final String trueClass, final Window window) {
        return new ClassAccuracy(trueClass, window.start(), window.end(), total, correct,
                total == 0 ? 0 : (double) correct / total, predictedCounts.clone(), modelVersion);
    }
}
