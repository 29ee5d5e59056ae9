package io.digitstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;


/** The decoder against PNG and size bombs; the bounds are in docs/reliability.md. */
class ImageDecoderTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final Duration SKEW = Duration.ofMinutes(5);

    @Test
    void refusesAPngThatDeclaresHugeDimensionsBeforeDecodingIt() {
        assertThatThrownBy(() -> decode(PngBombs.declaring(100_000, 100_000)))
                .isInstanceOf(InvalidMessageException.class).hasMessageContaining("100000x100000")
                .extracting(e -> ((InvalidMessageException) e).reason()).isEqualTo("bad-png");
        assertThatThrownBy(() -> decode(PngBombs.declaring(ImageDecoder.MAX_PNG_SIDE + 1, 1)))
                .isInstanceOf(InvalidMessageException.class).hasMessageContaining("limit is 4096");
    }

    @Test
    void readsTheLargestPngAllowedAtReducedResolution() {
        // 4096x4096 at 8 bytes a pixel is 128 MB inflated, from about 130 KB of base64.
        final String png = PngBombs.inflating(ImageDecoder.MAX_PNG_SIDE);
        assertThat(png.length()).isLessThan(200_000);

        assertThat(decode(png).pixels()).hasSize(DigitImage.PIXELS).containsOnly(0);
    }

    @Test
    void skipsTextChunksWhateverTheyInflateTo() {
        final String png = PngBombs.withTextBomb(500);
        assertThat(png.length()).isLessThan(1_000_000);

        assertThat(decode(png).pixels()).hasSize(DigitImage.PIXELS);
    }

    @Test
    void refusesATruncatedPng() {
        assertThatThrownBy(() -> decode(PngBombs.truncated())).isInstanceOf(InvalidMessageException.class)
                .extracting(e -> ((InvalidMessageException) e).reason()).isEqualTo("bad-png");
    }

    @Test
    void toleratesTheConfiguredClockSkewAndNoMore() {
        final DigitImage within = DigitImage.ofPixels("a", new int[784], null, NOW + SKEW.toMillis(), null);
        final DigitImage beyond = DigitImage.ofPixels("b", new int[784], null, NOW + SKEW.toMillis() + 1, null);

        assertThat(ImageDecoder.decode("a", within, NOW, NOW, SKEW).eventTime()).isEqualTo(NOW + SKEW.toMillis());
        assertThatThrownBy(() -> ImageDecoder.decode("b", beyond, NOW, NOW, SKEW))
                .isInstanceOf(InvalidMessageException.class).hasMessageContaining("PT5M")
                .extracting(e -> ((InvalidMessageException) e).reason()).isEqualTo("bad-timestamp");
    }

    @Test
    void quotesOnlyTheStartOfAHugeKey() {
        final String key = "k".repeat(100_000);
        assertThatThrownBy(() -> ImageDecoder.decode(key, DigitImage.ofPixels("a", new int[784], null, null, null),
                NOW, NOW, SKEW)).isInstanceOf(InvalidMessageException.class)
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200).contains("100000 characters"));
    }

    private static DecodedImage decode(final String png) {
        return ImageDecoder.decode("x", DigitImage.ofPng("x", png, null, null, null), NOW, NOW, SKEW);
    }
}
