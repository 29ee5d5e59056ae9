package io.digitstream.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

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

    @Test
    void nhwcFeaturesHoldTheSameNumbersWithTheChannelLast() {
        final byte[] pixels = new byte[2 * DigitNetwork.PIXELS];
        new Random(6).nextBytes(pixels);

        final INDArray nchw = DigitImages.toFeatures(pixels, 0, 2);
        final INDArray nhwc = DigitImages.toFeatures(pixels, 0, 2, 3, CNN2DFormat.NHWC);

        assertThat(nhwc.shape()).containsExactly(3, DigitNetwork.IMAGE_SIDE, DigitNetwork.IMAGE_SIDE, 1);
        assertThat(nhwc.get(NDArrayIndex.interval(0, 2)).reshape(nchw.shape())).isEqualTo(nchw);
        assertThat(nhwc.get(NDArrayIndex.point(2)).sumNumber().doubleValue()).as("the padding row is blank").isZero();
    }
}
