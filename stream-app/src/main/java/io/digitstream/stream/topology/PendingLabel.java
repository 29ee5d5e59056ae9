package io.digitstream.stream.topology;

/**
 * A late label waiting for its prediction.
 *
 * @param label     the true digit
 * @param arrivedAt wall-clock milliseconds when it arrived
 */
public record PendingLabel(int label, long arrivedAt) {
}
