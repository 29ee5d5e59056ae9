package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.kstream.internals.TimeWindow;
import org.junit.jupiter.api.Test;

import io.digitstream.schemas.ClassAccuracy;

class AccuracyTallySerdeTest {

    private final Serde<AccuracyTally> serde = AccuracyTally.serde();
    private final TimeWindow window = new TimeWindow(0, 60_000);

    @Test
    void roundTripsEveryCountTheVersionAndTheLatestEventTime() {
        final AccuracyTally tally = new AccuracyTally()
                .updateFrom(new LabeledPrediction("a", 3, 3, "mnist-cnn-é"), 1_000L)
                .updateFrom(new LabeledPrediction("b", 3, 5, "mnist-cnn-é"), 2_500L)
                .updateFrom(new LabeledPrediction("c", 3, 3, "mnist-cnn-é"), 2_000L);

        final byte[] bytes = serde.serializer().serialize("partials", tally);
        final AccuracyTally back = serde.deserializer().deserialize("partials", bytes);

        assertThat(bytes).hasSizeLessThan(140);
        assertThat(back.latestEventTime()).isEqualTo(2_500L);
        assertThat(back.toRecord("3", window)).usingRecursiveComparison()
                .isEqualTo(new ClassAccuracy("3", 0, 60_000, 3, 2, 2.0 / 3, new long[] {0, 0, 0, 2, 0, 1, 0, 0, 0, 0},
                        "mnist-cnn-é"));
    }

    @Test
    void anEmptyTallyHasNoVersion() {
        final AccuracyTally back = serde.deserializer().deserialize("windows",
                serde.serializer().serialize("windows", new AccuracyTally()));

        assertThat(back.toRecord("all", window).modelVersion()).isNull();
        assertThat(back.toRecord("all", window).total()).isZero();
    }


    @Test
    void refusesATruncatedValueSayingWhat() {
        assertThatThrownBy(() -> serde.deserializer().deserialize("partials", new byte[] {1, 0, 0}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("accuracy tally of 3 bytes in an unknown format");
    }
}
