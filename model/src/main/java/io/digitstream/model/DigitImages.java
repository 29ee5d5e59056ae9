package io.digitstream.model;

import java.util.List;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The single image preprocessing path, shared by training, evaluation and serving: 28x28 grayscale
 * pixels 0-255 (row-major, white digit on black as in MNIST) become floats in [0, 1], in the shape
 * of a network's input: {@code [images, 28, 28, 1]} for NHWC networks, {@code [images, 1, 28, 28]}
 * for NCHW ones. With one channel both hold the same numbers in the same order.
 */
public final class DigitImages {

    private static final float MAX_PIXEL = 255f;

    private DigitImages() {
    }

    /**
     * Features for {@code count} images stored back to back in {@code pixels} from {@code offset}
     * image onwards, for networks in training ({@link DigitNetwork#DATA_FORMAT}).
     */
    public static INDArray toFeatures(final byte[] pixels, final int offset, final int count) {
        return toFeatures(pixels, offset, count, count, DigitNetwork.DATA_FORMAT);
    }

    /** The same, followed by blank images up to {@code rows} in all, for a network of {@code format}. */
    static INDArray toFeatures(final byte[] pixels, final int offset, final int count, final int rows,
            final CNN2DFormat format) {
        final int pixelsPerImage = DigitNetwork.PIXELS;
        if (pixels.length < (long) (offset + count) * pixelsPerImage) {
            throw new IllegalArgumentException("need " + (offset + count) * pixelsPerImage
                    + " pixels for images " + offset + ".." + (offset + count) + ", have " + pixels.length);
        }
        final float[] scaled = new float[rows * pixelsPerImage];
        final int start = offset * pixelsPerImage;
        for (int i = 0; i < count * pixelsPerImage; i++) {
            scaled[i] = (pixels[start + i] & 0xFF) / MAX_PIXEL;
        }
        // One bulk copy into the native buffer: Nd4j.create(float[], ...) stores element by element,
        // a tenth of the stream threads' Java time at full load.
        final int side = DigitNetwork.IMAGE_SIDE;
        final long[] shape = format == CNN2DFormat.NHWC
                ? new long[] {rows, side, side, 1}
                : new long[] {rows, 1, side, side};
        final INDArray features = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
        features.data().asNioFloat().put(scaled);
        return features;
    }

    /**
     * Features for a list of separate images, each of {@link DigitNetwork#PIXELS} bytes, followed by
     * blank images up to {@code rows} in all, for a network of {@code format}.
     */
    static INDArray toFeatures(final List<byte[]> images, final int rows, final CNN2DFormat format) {
        final byte[] packed = new byte[images.size() * DigitNetwork.PIXELS];
        for (int i = 0; i < images.size(); i++) {
            final byte[] image = images.get(i);
            if (image.length != DigitNetwork.PIXELS) {
                throw new IllegalArgumentException("image " + i + " has " + image.length
                        + " pixels, expected " + DigitNetwork.PIXELS + " (28x28)");
            }
            System.arraycopy(image, 0, packed, i * DigitNetwork.PIXELS, DigitNetwork.PIXELS);
        }
        return toFeatures(packed, 0, images.size(), rows, format);
    }
}
