package io.digitstream.stream.topology;

import java.time.Duration;

/**
 * The knobs of the topology.
 *
 * @param batchSize         most images per forward pass
 * @param batchWait         longest an image waits for its batch to fill
 * @param labelJoinWindow   how long a prediction waits for its late label and a label for its prediction
 * @param accuracyWindow    size of the rolling accuracy windows
 * @param accuracyAdvance   how far each accuracy window starts after the previous one
 * @param accuracyGrace     how late (in event time) a labeled prediction may still count in its window
 * @param accuracyFlush     how often each task forwards its partial accuracy counts
 * @param maxImageBytes     larger image messages go to the dead-letter topic unread
 * @param overlapInference  whether a stream thread goes on reading while its batch is classified
 * @param commitInterval    how often a stream thread asks for a commit while its inference worker keeps
 *                          up, Kafka Streams' own (longer) interval applying when it does not; null to
 *                          leave commits to Kafka Streams alone
 * @param maxClockSkew      how far ahead of the app's clock an image's event time may be; later ones go
 *                          to the dead-letter topic
 * @param maxPendingJoins   most predictions, and most labels, a task keeps waiting for their other half
 */
public record TopologySettings(int batchSize, Duration batchWait, Duration labelJoinWindow, Duration accuracyWindow,
        Duration accuracyAdvance, Duration accuracyGrace, Duration accuracyFlush, int maxImageBytes,
        boolean overlapInference, Duration commitInterval, Duration maxClockSkew, int maxPendingJoins) {

    /** Defaults for the settings a test does not care about. */
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    public static final int DEFAULT_MAX_PENDING_JOINS = 200_000;

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
        if (maxClockSkew.isNegative()) {
            throw new IllegalArgumentException("tolerated clock skew must not be negative, got " + maxClockSkew);
        }
        if (maxPendingJoins < 1) {
            throw new IllegalArgumentException("most pending joins must be at least 1, got " + maxPendingJoins);
        }
    }
}
