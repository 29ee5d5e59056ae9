package io.digitstream.stream;

import java.time.Duration;

/**
 * The knobs of the topology.
 *
 * @param batchSize         most images per forward pass
 * @param batchWait         longest an image waits for its batch to fill
 * @param labelJoinWindow   how long a prediction waits for its late label and a label for its prediction
 * @param accuracyWindow    size of the rolling accuracy windows
 * @param accuracyAdvance   how far each accuracy window starts after the previous one
 * @param accuracyGrace     how late (in event time) a labelled prediction may still count in its window
 * @param accuracyFlush     how often each task forwards its partial accuracy counts
 * @param maxImageBytes     larger image messages go to the dead-letter topic unread
 * @param overlapInference  whether a stream thread goes on reading while its batch is classified
 * @param commitInterval    how often a stream thread asks for a commit while its inference worker keeps
 *                          up, Kafka Streams' own (longer) interval applying when it does not; null to
 *                          leave commits to Kafka Streams alone
 */
public record TopologySettings(int batchSize, Duration batchWait, Duration labelJoinWindow, Duration accuracyWindow,
        Duration accuracyAdvance, Duration accuracyGrace, Duration accuracyFlush, int maxImageBytes,
        boolean overlapInference, Duration commitInterval) {

    public TopologySettings {
        if (batchSize < 1) {
            throw new IllegalArgumentException("inference batch size must be at least 1, got " + batchSize);
        }
        if (batchWait.isNegative() || batchWait.isZero()) {
            throw new IllegalArgumentException("inference batch wait must be positive, got " + batchWait);
        }
        if (accuracyAdvance.compareTo(accuracyWindow) > 0 || accuracyAdvance.isZero() || accuracyAdvance.isNegative()) {
            throw new IllegalArgumentException("accuracy window advance must be positive and at most the window size");
        }
    }
}
