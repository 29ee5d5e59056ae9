package io.digitstream.stream.topology;

import com.fasterxml.jackson.annotation.JsonAlias;

import io.digitstream.schemas.Prediction;

/**
 * A prediction waiting for its late label: what the labelled prediction needs, and when it arrived.
 *
 * <p>Versions before this one stored the whole {@link Prediction}; its JSON still reads as this,
 * its {@code processingTime} (then Kafka Streams' wall clock when the prediction was made) as the
 * arrival time.
 *
 * @param predicted    the predicted digit
 * @param modelVersion the model that predicted it
 * @param eventTime    the image's event time, epoch milliseconds
 * @param arrivedAt    Kafka Streams' wall-clock milliseconds when it reached the join
 */
public record PendingPrediction(int predicted, String modelVersion, long eventTime,
        @JsonAlias("processingTime") long arrivedAt) {
}
