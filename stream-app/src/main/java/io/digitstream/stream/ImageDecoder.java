package io.digitstream.stream;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.DigitPictures;
import io.digitstream.schemas.DigitImage;

/** Validates an image event and turns it into the model's 784 bytes, or says precisely why not. */
public final class ImageDecoder {

    public static final int MAX_ID_LENGTH = 200;
    /** Larger PNGs are refused before decoding: a digit needs nothing near this. */
    public static final int MAX_PNG_SIDE = 4096;

    private ImageDecoder() {
    }

    /**
     * @param key             the record key, which must be the id when present
     * @param image           the parsed event
     * @param recordTimestamp the Kafka record timestamp, used when the event has none
     */
    public static DecodedImage decode(final String key, final DigitImage image, final long recordTimestamp) {
        if (image == null) {
            throw new InvalidMessageException("invalid-json", "image event is empty (null value)");
        }
        final String id = image.id();
        if (id == null || id.isBlank()) {
            throw new InvalidMessageException("missing-id", "image event has no id");
        }
        if (id.length() > MAX_ID_LENGTH) {
            throw new InvalidMessageException("missing-id", "image id is " + id.length()
                    + " characters long, the limit is " + MAX_ID_LENGTH);
        }
        if (key != null && !key.equals(id)) {
            throw new InvalidMessageException("key-mismatch", "record key '" + key + "' differs from image id '" + id
                    + "'; produce image events keyed by their id");
        }
        final Integer label = image.label();
        if (label != null && (label < 0 || label >= DigitNetwork.CLASSES)) {
            throw new InvalidMessageException("bad-label", "label " + label + " of image " + id + " is not a digit 0-9");
        }
        if (image.timestamp() != null && image.timestamp() < 0) {
            throw new InvalidMessageException("bad-timestamp", "timestamp " + image.timestamp() + " of image " + id
                    + " is negative; use epoch milliseconds");
        }
        final int representations = (image.pixels() != null ? 1 : 0) + (image.pixelsBase64() != null ? 1 : 0)
                + (image.png() != null ? 1 : 0);
        if (representations == 0) {
            throw new InvalidMessageException("no-image", "image " + id + " has none of pixels, pixelsBase64, png");
        }
        if (representations > 1) {
            throw new InvalidMessageException("several-images", "image " + id
                    + " has more than one of pixels, pixelsBase64, png; send exactly one");
        }
        final byte[] pixels;
        if (image.pixels() != null) {
            pixels = fromInts(id, image.pixels());
        } else if (image.pixelsBase64() != null) {
            pixels = base64(id, "pixelsBase64", image.pixelsBase64());
            if (pixels.length != DigitNetwork.PIXELS) {
                throw new InvalidMessageException("wrong-size", "pixelsBase64 of image " + id + " decodes to "
                        + pixels.length + " bytes, expected " + DigitNetwork.PIXELS + " (28x28)");
            }
        } else {
            pixels = DigitPictures.toMnistPixels(png(id, base64(id, "png", image.png())));
        }
        return new DecodedImage(id, pixels, label, image.timestamp() != null ? image.timestamp() : recordTimestamp);
    }

    private static byte[] fromInts(final String id, final int[] values) {
        if (values.length != DigitNetwork.PIXELS) {
            throw new InvalidMessageException("wrong-size", "image " + id + " has " + values.length
                    + " pixels, expected " + DigitNetwork.PIXELS + " (28x28, row-major)");
        }
        final byte[] pixels = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] > 255) {
                throw new InvalidMessageException("pixel-out-of-range", "pixel " + i + " of image " + id + " is "
                        + values[i] + ", expected 0-255");
            }
            pixels[i] = (byte) values[i];
        }
        return pixels;
    }

    private static byte[] base64(final String id, final String field, final String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (final IllegalArgumentException e) {
            throw new InvalidMessageException("bad-base64", field + " of image " + id + " is not valid base64: "
                    + e.getMessage(), e);
        }
    }

    private static BufferedImage png(final String id, final byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            final var readers = ImageIO.getImageReadersByFormatName("png");
            final ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                final int width = reader.getWidth(0);
                final int height = reader.getHeight(0);
                if (width > MAX_PNG_SIDE || height > MAX_PNG_SIDE) {
                    throw new InvalidMessageException("bad-png", "png of image " + id + " is " + width + "x" + height
                            + ", the limit is " + MAX_PNG_SIDE + " on each side");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (final IOException | RuntimeException e) {
            if (e instanceof InvalidMessageException invalid) {
                throw invalid;
            }
            throw new InvalidMessageException("bad-png", "png of image " + id + " is not a readable PNG: "
                    + e.getMessage(), e);
        }
    }
}
