package io.digitstream.schemas;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.image.BufferedImage;

/**
 * Turns a picture of a digit of any size into a 28x28 MNIST-style image, the way MNIST itself was
 * made: grayscale, ink high on a zero background (a dark digit on light paper is inverted), cropped
 * to the ink, scaled to fit a 20x20 box keeping its aspect ratio, and placed in the 28x28 frame so
 * that its centre of mass is at the centre.
 */
public final class DigitPictures {

    /** MNIST digits fit in 20x20 inside the 28x28 frame. */
    static final int BOX = 20;
    /** Grey levels at or below this after polarity correction count as background when cropping. */
    static final int INK_THRESHOLD = 40;
    private static final int MAX_LEVEL = 255;

    private DigitPictures() {
    }

    /** The 784 row-major pixels, ink high, of the digit in {@code picture}. */
    public static byte[] toMnistPixels(final BufferedImage picture) {
        final int width = picture.getWidth();
        final int height = picture.getHeight();
        final int[] ink = inkLevels(picture);
        int left = width;
        int right = -1;
        int top = height;
        int bottom = -1;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (ink[y * width + x] > INK_THRESHOLD) {
                    left = Math.min(left, x);
                    right = Math.max(right, x);
                    top = Math.min(top, y);
                    bottom = Math.max(bottom, y);
                }
            }
        }
        final byte[] result = new byte[DigitImage.PIXELS];
        if (right < 0) {
            return result;
        }
        final int cropWidth = right - left + 1;
        final int cropHeight = bottom - top + 1;
        final BufferedImage crop = new BufferedImage(cropWidth, cropHeight, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < cropHeight; y++) {
            for (int x = 0; x < cropWidth; x++) {
                final int level = ink[(top + y) * width + left + x];
                crop.getRaster().setSample(x, y, 0, level);
            }
        }
        final double scale = (double) BOX / Math.max(cropWidth, cropHeight);
        final int boxWidth = Math.max(1, (int) Math.round(cropWidth * scale));
        final int boxHeight = Math.max(1, (int) Math.round(cropHeight * scale));
        final BufferedImage boxed = new BufferedImage(boxWidth, boxHeight, BufferedImage.TYPE_BYTE_GRAY);
        final Graphics2D g = boxed.createGraphics();
        g.drawImage(crop.getScaledInstance(boxWidth, boxHeight, Image.SCALE_AREA_AVERAGING), 0, 0, null);
        g.dispose();

        double mass = 0;
        double sumX = 0;
        double sumY = 0;
        for (int y = 0; y < boxHeight; y++) {
            for (int x = 0; x < boxWidth; x++) {
                final int level = boxed.getRaster().getSample(x, y, 0);
                mass += level;
                sumX += level * x;
                sumY += level * y;
            }
        }
        final double centre = DigitImage.SIDE / 2.0;
        final int offsetX = clamp((int) Math.round(centre - (mass == 0 ? boxWidth / 2.0 : sumX / mass + 0.5)),
                DigitImage.SIDE - boxWidth);
        final int offsetY = clamp((int) Math.round(centre - (mass == 0 ? boxHeight / 2.0 : sumY / mass + 0.5)),
                DigitImage.SIDE - boxHeight);
        for (int y = 0; y < boxHeight; y++) {
            for (int x = 0; x < boxWidth; x++) {
                result[(offsetY + y) * DigitImage.SIDE + offsetX + x] =
                        (byte) boxed.getRaster().getSample(x, y, 0);
            }
        }
        return result;
    }

    /**
     * Grey level of every pixel with ink high: transparent areas count as paper, and the picture is
     * inverted when its border is light (a dark digit on light paper).
     */
    private static int[] inkLevels(final BufferedImage picture) {
        final int width = picture.getWidth();
        final int height = picture.getHeight();
        final int[] levels = new int[width * height];
        long borderSum = 0;
        int borderCount = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                final Color c = new Color(picture.getRGB(x, y), true);
                final double alpha = c.getAlpha() / (double) MAX_LEVEL;
                final double luminance = 0.299 * c.getRed() + 0.587 * c.getGreen() + 0.114 * c.getBlue();
                // Composite over white paper.
                final int level = (int) Math.round(alpha * luminance + (1 - alpha) * MAX_LEVEL);
                levels[y * width + x] = level;
                if (x == 0 || y == 0 || x == width - 1 || y == height - 1) {
                    borderSum += level;
                    borderCount++;
                }
            }
        }
        if (borderSum > (long) borderCount * MAX_LEVEL / 2) {
            for (int i = 0; i < levels.length; i++) {
                levels[i] = MAX_LEVEL - levels[i];
            }
        }
        return levels;
    }

    private static int clamp(final int offset, final int max) {
        return Math.max(0, Math.min(max, offset));
    }
}
