package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.digitstream.schemas.JsonSerde;

class PendingPredictionTest {


    @Test
    void roundTrips() {
        final PendingPrediction pending = new PendingPrediction(3, "mnist-cnn-2", 5L, 6L);
        final JsonSerde<PendingPrediction> serde = JsonSerde.serdeFor(PendingPrediction.class);

        assertThat(serde.deserialize("awaiting", serde.serialize("awaiting", pending))).isEqualTo(pending);
    }
}
