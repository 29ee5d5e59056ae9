package io.digitstream.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class DigitImagesTest {

    @Test
    void featuresAreThePixelsOverTwoFiftyFiveInImageRowColumnOrder() {
        final byte[] pixels = new byte[4 * DigitNetwork.PIXELS];
        new Random(3).nextBytes(pixels);

        final INDArray features = DigitImages.toFeatures(pixels, 1, 3);

        assertThat(features.shape()).containsExactly(3, 1, DigitNetwork.IMAGE_SIDE, DigitNetwork.IMAGE_SIDE);
        for (int image = 0; image < 3; image++) {
            for (int row = 0; row < DigitNetwork.IMAGE_SIDE; row++) {
                for (int column = 0; column < DigitNetwork.IMAGE_SIDE; column++) {
                    final int pixel = pixels[(image + 1) * DigitNetwork.PIXELS + row * DigitNetwork.IMAGE_SIDE + column]
                            & 0xFF;
                    assertThat(features.getFloat(image, 0, row, column)).isEqualTo(pixel / 255f);
                }
            }
        }
    }
}
