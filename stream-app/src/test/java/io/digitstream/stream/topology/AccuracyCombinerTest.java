package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AccuracyCombinerTest {

    @Test
    void aGroupKeyNamesItsClassAndAKeyFromBeforeVersionsWereCountedApartIsItsOwnClass() {
        assertThat(AccuracyCombiner.trueClass(AccuracyCombiner.groupKey("7", "mnist-cnn-1"))).isEqualTo("7");
        assertThat(AccuracyCombiner.trueClass(AccuracyCombiner.groupKey("all", "v.2_b-3"))).isEqualTo("all");
        // State and repartition records a previous version of the app wrote: the class alone.
        assertThat(AccuracyCombiner.trueClass("7")).isEqualTo("7");
    }
}
