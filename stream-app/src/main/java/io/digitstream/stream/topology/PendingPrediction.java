package io.digitstream.stream.topology;

/**
 * A prediction waiting for its late label: what the labeled prediction needs, and when it arrived.
 *
 * @param predicted    the predicted digit
 * @param modelVersion the model that predicted it
 * @param eventTime    the image's event time, epoch milliseconds
 * @param arrivedAt    Kafka Streams' wall-clock milliseconds when it reached the join
 * @param shadowPredicted the shadow model's digit, or null when none ran
 * @param shadowVersion   the shadow model, or null
 */
public record PendingPrediction(int predicted, String modelVersion, long eventTime, long arrivedAt,
        Integer shadowPredicted, String shadowVersion) {
}
