package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.digitstream.schemas.JsonSerde;

class PendingPredictionTest {

    @Test
    void roundTrips() {
        final JsonSerde<PendingPrediction> serde = JsonSerde.serdeFor(PendingPrediction.class);
        final PendingPrediction pending = new PendingPrediction(3, "mnist-cnn-2", 5L, 6L, null, null);
        final PendingPrediction shadowed = new PendingPrediction(3, "mnist-cnn-2", 5L, 6L, 4, "mnist-cnn-3");

        assertThat(serde.deserialize("awaiting", serde.serialize("awaiting", pending))).isEqualTo(pending);
        assertThat(serde.deserialize("awaiting", serde.serialize("awaiting", shadowed))).isEqualTo(shadowed);
    }
}
