package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

class SequenceKeysTest {

    @Test
    void roundTripsAndKeepsTheNumbersOrderInTheBytes() {
        long previous = -1;
        Bytes previousKey = null;
        for (final long sequence : new long[] {0, 1, 9, 10, 255, 256, 99_999, 1L << 40, Long.MAX_VALUE}) {
            final Bytes key = SequenceKeys.key(sequence);
            assertThat(SequenceKeys.sequence(key)).as("key of %d", sequence).isEqualTo(sequence);
            if (previousKey != null) {
                assertThat(key).as("%d after %d", sequence, previous).isGreaterThan(previousKey);
            }
            previous = sequence;
            previousKey = key;
        }
    }

    @Test
    void consecutiveKeysHaveDistinctHashCodes() {
        final Set<Integer> hashes = new HashSet<>();
        final Set<Integer> longHashes = new HashSet<>();
        for (long sequence = 5_000_000; sequence < 5_010_000; sequence++) {
            hashes.add(SequenceKeys.key(sequence).hashCode());
            longHashes.add(Bytes.wrap(Serdes.Long().serializer().serialize("buffer", sequence)).hashCode());
        }

        assertThat(hashes).hasSize(10_000);
        assertThat(longHashes).as("the 8-byte form of the same numbers").hasSizeLessThan(4_000);
    }


    @Test
    void refusesKeysOfAnotherShapeSayingWhy() {
        assertThatThrownBy(() -> SequenceKeys.sequence(Bytes.wrap(new byte[5])))
                .isInstanceOf(SerializationException.class).hasMessageContaining("5 bytes");
        assertThatThrownBy(() -> SequenceKeys.sequence(Bytes.wrap("000000000000000001x".getBytes(StandardCharsets.US_ASCII))))
                .isInstanceOf(SerializationException.class).hasMessageContaining("not all digits");
        assertThatThrownBy(() -> SequenceKeys.key(-1L))
                .isInstanceOf(SerializationException.class).hasMessageContaining("negative");
    }
}
