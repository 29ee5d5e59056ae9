package io.digitstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;

import org.junit.jupiter.api.Test;

class DigitPicturesTest {

    @Test
    void darkDigitOnLightPaperBecomesCentredInkOnBlack() {
        final BufferedImage picture = new BufferedImage(200, 120, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = picture.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 200, 120);
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(8));
        // A "1" drawn off-centre, near the top-left corner.
        g.drawLine(30, 10, 30, 90);
        g.dispose();

        final byte[] pixels = DigitPictures.toMnistPixels(picture);

        assertThat(pixels).hasSize(DigitImage.PIXELS);
        assertThat(pixels[0]).as("corner is background").isZero();
        final double[] centre = centreOfMass(pixels);
        assertThat(centre[0]).isCloseTo(14, org.assertj.core.data.Offset.offset(1.0));
        assertThat(centre[1]).isCloseTo(14, org.assertj.core.data.Offset.offset(1.0));
        assertThat(inkRows(pixels)).as("tall stroke fills the 20-pixel box").isBetween(19, 21);
    }

    @Test
    void lightDigitOnDarkAndTransparentBackgroundsKeepInkHigh() {
        final BufferedImage dark = new BufferedImage(56, 56, BufferedImage.TYPE_INT_RGB);
        final BufferedImage transparent = new BufferedImage(56, 56, BufferedImage.TYPE_INT_ARGB);
        for (final BufferedImage picture : new BufferedImage[] {dark, transparent}) {
            final Graphics2D g = picture.createGraphics();
            g.setColor(picture == dark ? Color.WHITE : Color.BLACK);
            g.fillOval(14, 14, 28, 28);
            g.dispose();
        }

        assertThat(mass(DigitPictures.toMnistPixels(dark))).isGreaterThan(50_000);
        assertThat(mass(DigitPictures.toMnistPixels(transparent))).isGreaterThan(50_000);
    }

    @Test
    void blankPictureGivesBlankImage() {
        final BufferedImage blank = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);

        assertThat(mass(DigitPictures.toMnistPixels(blank))).isZero();
    }

    private static double[] centreOfMass(final byte[] pixels) {
        double mass = 0;
        double x = 0;
        double y = 0;
        for (int i = 0; i < pixels.length; i++) {
            final int level = pixels[i] & 0xFF;
            mass += level;
            x += level * (i % 28 + 0.5);
            y += level * (i / 28 + 0.5);
        }
        return new double[] {x / mass, y / mass};
    }

    private static long mass(final byte[] pixels) {
        long sum = 0;
        for (final byte p : pixels) {
            sum += p & 0xFF;
        }
        return sum;
    }

    private static int inkRows(final byte[] pixels) {
        int rows = 0;
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                if ((pixels[y * 28 + x] & 0xFF) > 0) {
                    rows++;
                    break;
                }
            }
        }
        return rows;
    }
}
