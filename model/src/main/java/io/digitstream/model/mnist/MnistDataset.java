package io.digitstream.model.mnist;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import io.digitstream.model.DigitNetwork;

/**
 * MNIST images and labels in memory: {@code count} images of 28x28 bytes packed back to back in
 * {@code pixels}, and their digits in {@code labels}.
 *
 * @param pixels row-major 0-255 pixels, {@link DigitNetwork#PIXELS} per image
 * @param labels one digit 0-9 per image
 * @param count  the number of images
 */
public record MnistDataset(byte[] pixels, byte[] labels, int count) {

    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;

    public MnistDataset {
        if (pixels.length != (long) count * DigitNetwork.PIXELS || labels.length != count) {
            throw new IllegalArgumentException("dataset of " + count + " images needs " + count * DigitNetwork.PIXELS
                    + " pixels and " + count + " labels, got " + pixels.length + " and " + labels.length);
        }
    }

    public int label(final int index) {
        return labels[index];
    }

    /** Images {@code from} (inclusive) to {@code to} (exclusive), copied. */
    public MnistDataset slice(final int from, final int to) {
        if (from < 0 || to > count || from > to) {
            throw new IndexOutOfBoundsException("slice " + from + ".." + to + " of " + count + " images");
        }
        final byte[] slicePixels = new byte[(to - from) * DigitNetwork.PIXELS];
        System.arraycopy(pixels, from * DigitNetwork.PIXELS, slicePixels, 0, slicePixels.length);
        final byte[] sliceLabels = new byte[to - from];
        System.arraycopy(labels, from, sliceLabels, 0, sliceLabels.length);
        return new MnistDataset(slicePixels, sliceLabels, to - from);
    }

    /** The first {@code limit} images, or all of them when there are fewer. */
    public MnistDataset limit(final int limit) {
        return limit >= count ? this : slice(0, limit);
    }

    /** Reads an IDX image file and its IDX label file, each raw or gzip-compressed. */
    public static MnistDataset read(final Path imagesFile, final Path labelsFile) {
        final byte[] pixels = readImages(imagesFile);
        final byte[] labels = readLabels(labelsFile);
        final int count = pixels.length / DigitNetwork.PIXELS;
        if (count != labels.length) {
            throw new IdxFormatException("image file " + imagesFile + " holds " + count + " images but label file "
                    + labelsFile + " holds " + labels.length + " labels; they must come from the same MNIST set");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= DigitNetwork.CLASSES) {
                throw new IdxFormatException("label file " + labelsFile + " has label " + labels[i] + " at index " + i
                        + "; MNIST labels are 0-9");
            }
        }
        return new MnistDataset(pixels, labels, count);
    }

    static byte[] readImages(final Path file) {
        try (DataInputStream in = open(file)) {
            final int magic = in.readInt();
            if (magic != IMAGES_MAGIC) {
                throw new IdxFormatException(String.format("%s is not an IDX image file: magic number 0x%08x, "
                        + "expected 0x%08x", file, magic, IMAGES_MAGIC));
            }
            final int count = in.readInt();
            final int rows = in.readInt();
            final int cols = in.readInt();
            if (rows != DigitNetwork.IMAGE_SIDE || cols != DigitNetwork.IMAGE_SIDE || count < 0) {
                throw new IdxFormatException(file + " holds " + count + " images of " + rows + "x" + cols
                        + "; MNIST images are 28x28");
            }
            return readBody(in, file, (long) count * rows * cols, count + " images");
        } catch (final IOException e) {
            throw new IdxFormatException("cannot read " + file + ": " + e.getMessage());
        }
    }

    static byte[] readLabels(final Path file) {
        try (DataInputStream in = open(file)) {
            final int magic = in.readInt();
            if (magic != LABELS_MAGIC) {
                throw new IdxFormatException(String.format("%s is not an IDX label file: magic number 0x%08x, "
                        + "expected 0x%08x", file, magic, LABELS_MAGIC));
            }
            final int count = in.readInt();
            if (count < 0) {
                throw new IdxFormatException(file + " declares a negative label count " + count);
            }
            return readBody(in, file, count, count + " labels");
        } catch (final IOException e) {
            throw new IdxFormatException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static byte[] readBody(final DataInputStream in, final Path file, final long size, final String what)
            throws IOException {
        final byte[] body = new byte[Math.toIntExact(size)];
        try {
            in.readFully(body);
        } catch (final EOFException e) {
            throw new IdxFormatException(file + " is truncated: its header declares " + what
                    + " but the file ends early; fetch it again");
        }
        if (in.read() != -1) {
            throw new IdxFormatException(file + " has bytes after the " + what + " its header declares");
        }
        return body;
    }

    private static DataInputStream open(final Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IdxFormatException("no such file: " + file);
        }
        InputStream in = Files.newInputStream(file);
        if (file.getFileName().toString().endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
    }
}
