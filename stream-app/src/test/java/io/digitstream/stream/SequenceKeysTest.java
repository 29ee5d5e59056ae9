package io.digitstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

class SequenceKeySerdeTest {

    private final SequenceKeySerde serde = new SequenceKeySerde();

    @Test
    void roundTripsAndKeepsTheNumbersOrderInTheBytes() {
        long previous = -1;
        Bytes previousKey = null;
        for (final long sequence : new long[] {0, 1, 9, 10, 255, 256, 99_999, 1L << 40, Long.MAX_VALUE}) {
            final byte[] key = serde.serialize("buffer", sequence);
            assertThat(serde.deserialize("buffer", key)).isEqualTo(sequence);
            if (previousKey != null) {
                assertThat(Bytes.wrap(key)).as("%d after %d", sequence, previous).isGreaterThan(previousKey);
            }
            previous = sequence;
            previousKey = Bytes.wrap(key);
        }
    }

    @Test
    void consecutiveKeysHaveDistinctHashCodes() {
        final Set<Integer> hashes = new HashSet<>();
        final Set<Integer> longHashes = new HashSet<>();
        for (long sequence = 5_000_000; sequence < 5_010_000; sequence++) {
            hashes.add(Bytes.wrap(serde.serialize("buffer", sequence)).hashCode());
            longHashes.add(Bytes.wrap(Serdes.Long().serializer().serialize("buffer", sequence)).hashCode());
        }

        assertThat(hashes).hasSize(10_000);
        assertThat(longHashes).as("the 8-byte form this replaced").hasSizeLessThan(4_000);
    }

    @Test
    void readsTheEightByteKeysEarlierVersionsWroteAndSortsThemFirst() {
        final byte[] earlier = Serdes.Long().serializer().serialize("buffer", 123_456L);

        assertThat(serde.deserialize("buffer", earlier)).isEqualTo(123_456L);
        assertThat(Bytes.wrap(earlier)).isLessThan(Bytes.wrap(serde.serialize("buffer", 0L)));
    }

    @Test
    void refusesKeysOfAnotherShapeSayingWhy() {
        assertThatThrownBy(() -> serde.deserialize("buffer", new byte[5]))
                .isInstanceOf(SerializationException.class).hasMessageContaining("5 bytes");
        assertThatThrownBy(() -> serde.deserialize("buffer", "000000000000000001x".getBytes()))
                .isInstanceOf(SerializationException.class).hasMessageContaining("not all digits");
        assertThatThrownBy(() -> serde.serialize("buffer", -1L))
                .isInstanceOf(SerializationException.class).hasMessageContaining("negative");
    }
}
