package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;

class PendingPredictionTest {

    @Test
    void readsTheWholePredictionsThatEarlierVersionsKeptWaitingForALabel() {
        final Prediction earlier = new Prediction("img-1", 7, 0.9f, new float[] {0, 0, 0, 0, 0, 0, 0, 0.9f, 0.1f, 0},
                "mnist-cnn-1", null, null, 1_000L, 2_500L);
        final byte[] stored = JsonSerde.serdeFor(Prediction.class).serialize("awaiting", earlier);

        assertThat(JsonSerde.serdeFor(PendingPrediction.class).deserialize("awaiting", stored))
                .isEqualTo(new PendingPrediction(7, "mnist-cnn-1", 1_000L, 2_500L));
    }

    @Test
    void roundTrips() {
        final PendingPrediction pending = new PendingPrediction(3, "mnist-cnn-2", 5L, 6L);
        final JsonSerde<PendingPrediction> serde = JsonSerde.serdeFor(PendingPrediction.class);

        assertThat(serde.deserialize("awaiting", serde.serialize("awaiting", pending))).isEqualTo(pending);
    }
}
