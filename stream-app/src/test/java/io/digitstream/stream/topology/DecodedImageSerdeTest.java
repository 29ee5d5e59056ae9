package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.DecodedImage;

class DecodedImageSerdeTest {

    private final DecodedImageSerde serde = new DecodedImageSerde();

    @Test
    void roundTripsEveryFieldWithAndWithoutALabel() {
        final byte[] pixels = new byte[DigitNetwork.PIXELS];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) i;
        }
        for (final Integer label : new Integer[] {null, 0, 9}) {
            final DecodedImage image = new DecodedImage("img-é-" + label, pixels, label, 1_700_000_000_123L);

            final byte[] bytes = serde.serialize("changelog", image);
            final DecodedImage back = serde.deserialize("changelog", bytes);

            assertThat(bytes).hasSizeLessThan(DigitNetwork.PIXELS + 30);
            assertThat(back.id()).isEqualTo(image.id());
            assertThat(back.pixels()).isEqualTo(pixels);
            assertThat(back.label()).isEqualTo(label);
            assertThat(back.eventTime()).isEqualTo(image.eventTime());
        }
    }

    @Test
    void nullIsATombstoneBothWays() {
        assertThat(serde.serialize("changelog", null)).isNull();
        assertThat(serde.deserialize("changelog", null)).isNull();
    }


    @Test
    void refusesAnUnknownFormatSayingWhat() {
        assertThatThrownBy(() -> serde.deserialize("changelog", new byte[] {7, 1, 2}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("3 bytes in an unknown format (format byte 7)");
    }
}
