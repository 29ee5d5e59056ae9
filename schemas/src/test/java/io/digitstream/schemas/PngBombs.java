package io.digitstream.schemas;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/** Hostile PNGs, written chunk by chunk: what a PNG encoder would never make. */
public final class PngBombs {

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final int RGBA = 6;
    private static final int GRAY = 0;

    private PngBombs() {
    }

    /** A PNG that declares {@code width} x {@code height} and holds one blank row. */
    public static String declaring(final int width, final int height) {
        return base64(png(width, height, 8, GRAY, null, deflate(new byte[1 + width], 1)));
    }

    /** A blank 16-bit RGBA PNG of {@code side} x {@code side}: 8 bytes a pixel once inflated, ~1,000x its size. */
    public static String inflating(final int side) {
        return base64(png(side, side, 16, RGBA, null, deflate(new byte[1 + side * 8], side)));
    }

    /** A 28x28 PNG with a text chunk that inflates to {@code megabytes} MB. */
    public static String withTextBomb(final int megabytes) {
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        text.writeBytes("Comment".getBytes(StandardCharsets.US_ASCII));
        text.write(0);
        text.write(0);
        text.writeBytes(deflate(new byte[1 << 20], megabytes));
        return base64(png(28, 28, 8, GRAY, text.toByteArray(), deflate(new byte[1 + 28], 28)));
    }

    /** A valid 28x28 blank PNG cut off three bytes into its image data. */
    public static String truncated() {
        final byte[] whole = png(28, 28, 8, GRAY, null, deflate(new byte[1 + 28], 28));
        return base64(java.util.Arrays.copyOf(whole, SIGNATURE.length + 25 + 8 + 3));
    }

    private static byte[] png(final int width, final int height, final int bitDepth, final int colorType,
            final byte[] zText, final byte[] imageData) {
        try {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            final DataOutputStream out = new DataOutputStream(bytes);
            out.write(SIGNATURE);
            chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) bitDepth)
                    .put((byte) colorType).put((byte) 0).put((byte) 0).put((byte) 0).array());
            if (zText != null) {
                chunk(out, "zTXt", zText);
            }
            chunk(out, "IDAT", imageData);
            chunk(out, "IEND", new byte[0]);
            return bytes.toByteArray();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void chunk(final DataOutputStream out, final String type, final byte[] data) throws IOException {
        final byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(data.length);
        out.write(name);
        out.write(data);
        final CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    /** {@code block} repeated {@code times}, deflated. */
    private static byte[] deflate(final byte[] block, final int times) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream deflater = new DeflaterOutputStream(out, new Deflater(Deflater.BEST_COMPRESSION))) {
            for (int i = 0; i < times; i++) {
                deflater.write(block);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String base64(final byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
