package io.digitstream.trainer;

import java.awt.geom.AffineTransform;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.Random;

import io.digitstream.model.DigitNetwork;

/**
 * Small random shifts and rotations of training images, the usual MNIST augmentation: a handwritten
 * digit moved by a pixel or two or tilted a few degrees is still the same digit.
 */
final class Augmenter {

    static final double MAX_SHIFT_PIXELS = 2.0;
    static final double MAX_ROTATION_DEGREES = 10.0;

    private final Random random;

    Augmenter(final long seed) {
        this.random = new Random(seed);
    }

    /** Transforms every image of a packed batch in place. */
    void augment(final byte[] pixels, final int count) {
        final int side = DigitNetwork.IMAGE_SIDE;
        final BufferedImage source = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
        final byte[] sourcePixels = ((DataBufferByte) source.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < count; i++) {
            System.arraycopy(pixels, i * DigitNetwork.PIXELS, sourcePixels, 0, DigitNetwork.PIXELS);
            final double angle = Math.toRadians((random.nextDouble() * 2 - 1) * MAX_ROTATION_DEGREES);
            final double dx = (random.nextDouble() * 2 - 1) * MAX_SHIFT_PIXELS;
            final double dy = (random.nextDouble() * 2 - 1) * MAX_SHIFT_PIXELS;
            final AffineTransform transform = AffineTransform.getTranslateInstance(dx, dy);
            transform.rotate(angle, side / 2.0, side / 2.0);
            final BufferedImage target = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
            new AffineTransformOp(transform, AffineTransformOp.TYPE_BILINEAR).filter(source, target);
            final byte[] targetPixels = ((DataBufferByte) target.getRaster().getDataBuffer()).getData();
            System.arraycopy(targetPixels, 0, pixels, i * DigitNetwork.PIXELS, DigitNetwork.PIXELS);
        }
    }
}
