package io.digitstream.schemas;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Base64;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;


/** Validates an image event and turns it into the model's 784 bytes, or says precisely why not. */
public final class ImageDecoder {

    public static final int MAX_ID_LENGTH = 200;
    public static final int MAX_SOURCE_LENGTH = 200;
    /** Larger PNGs are refused before decoding: a digit needs nothing near this. */
    public static final int MAX_PNG_SIDE = 4096;
    /** Larger PNGs are decoded at a lower resolution, at most this on each side. */
    static final int DECODED_PNG_SIDE = 1024;
    /** How much of a bad value an error message quotes. */
    private static final int QUOTE_LENGTH = 40;

    private ImageDecoder() {
    }

    /**
     * @param key             the record key, which must be the id when present
     * @param image           the parsed event
     * @param recordTimestamp the Kafka record timestamp, used when the event has none
     * @param now             the app's clock, epoch milliseconds
     * @param maxClockSkew    how far ahead of {@code now} an event time may be
     */
    public static DecodedImage decode(final String key, final DigitImage image, final long recordTimestamp,
            final long now, final Duration maxClockSkew) {
        if (image == null) {
            throw new InvalidMessageException("invalid-json", "image event is empty (null value)");
        }
        final String id = checkId(key, image.id(), "image event");
        final Integer label = image.label();
        if (label != null && (label < 0 || label >= DigitImage.DIGITS)) {
            throw new InvalidMessageException("bad-label", "label " + label + " of image " + id + " is not a digit 0-9");
        }
        final long eventTime = image.timestamp() != null ? image.timestamp() : recordTimestamp;
        checkEventTime(id, eventTime, now, maxClockSkew);
        if (image.source() != null && image.source().length() > MAX_SOURCE_LENGTH) {
            throw new InvalidMessageException("bad-source", "source of image " + id + " is " + image.source().length()
                    + " characters long, the limit is " + MAX_SOURCE_LENGTH);
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
            if (pixels.length != DigitImage.PIXELS) {
                throw new InvalidMessageException("wrong-size", "pixelsBase64 of image " + id + " decodes to "
                        + pixels.length + " bytes, expected " + DigitImage.PIXELS + " (28x28)");
            }
        } else {
            pixels = DigitPictures.toMnistPixels(png(id, base64(id, "png", image.png())));
        }
        return new DecodedImage(id, pixels, label, eventTime);
    }

    /**
     * Checks an id as the schemas define it (1-200 characters, not blank) and that the record key, when
     * there is one, is that id. Shared by images and labels.
     *
     * @return the id
     */
    public static String checkId(final String key, final String id, final String what) {
        if (id == null || id.isBlank()) {
            throw new InvalidMessageException("missing-id", what + " has no id");
        }
        if (id.length() > MAX_ID_LENGTH) {
            throw new InvalidMessageException("bad-id", what + " has an id of " + id.length()
                    + " characters, the limit is " + MAX_ID_LENGTH);
        }
        if (key != null && !key.equals(id)) {
            throw new InvalidMessageException("key-mismatch", "record key '" + quote(key) + "' differs from the id '"
                    + id + "' of the " + what + "; produce it keyed by its id");
        }
        return id;
    }

    /**
     * An event time from a producer's clock is trusted only up to the skew the app tolerates: a clock
     * hours ahead, or a timestamp in microseconds, would otherwise date the image years ahead.
     */
    private static void checkEventTime(final String id, final long eventTime, final long now,
            final Duration maxClockSkew) {
        if (eventTime < 0) {
            throw new InvalidMessageException("bad-timestamp", "timestamp " + eventTime + " of image " + id
                    + " is negative; use epoch milliseconds");
        }
        if (eventTime - now > maxClockSkew.toMillis()) {
            throw new InvalidMessageException("bad-timestamp", "timestamp " + eventTime + " of image " + id + " is "
                    + Duration.ofMillis(eventTime - now).truncatedTo(ChronoUnit.SECONDS)
                    + " ahead of the app's clock, more than the " + maxClockSkew + " it tolerates; use epoch"
                    + " milliseconds from a synchronized clock, or leave timestamp out to use the record's");
        }
    }

    /** At most {@value #QUOTE_LENGTH} characters of {@code text}, so an error message stays small. */
    static String quote(final String text) {
        return text.length() <= QUOTE_LENGTH ? text : text.substring(0, QUOTE_LENGTH) + "... (" + text.length()
                + " characters)";
    }

    private static byte[] fromInts(final String id, final int[] values) {
        if (values.length != DigitImage.PIXELS) {
            throw new InvalidMessageException("wrong-size", "image " + id + " has " + values.length
                    + " pixels, expected " + DigitImage.PIXELS + " (28x28, row-major)");
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
        if (text.length() % 4 != 0) {
            throw new InvalidMessageException("bad-base64", field + " of image " + id + " is " + text.length()
                    + " characters, not a multiple of 4: base64 must be padded with '='");
        }
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
                // A large picture is read at a lower resolution: the digit ends up 20x20 anyway, and
                // the decoded image stays under a few megabytes whatever size the PNG declares.
                final ImageReadParam param = reader.getDefaultReadParam();
                final int step = (Math.max(width, height) + DECODED_PNG_SIDE - 1) / DECODED_PNG_SIDE;
                if (step > 1) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                return reader.read(0, param);
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
