package io.digitstream.schemas;

import java.util.Base64;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A handwritten digit to classify (schemas/json/digit-image.schema.json). Exactly one of
 * {@code pixels}, {@code pixelsBase64} and {@code png} carries the image.
 *
 * @param id           unique image id, also the record key
 * @param pixels       784 grey levels 0-255, row-major 28x28, ink high
 * @param pixelsBase64 the same 784 bytes, base64
 * @param png          a base64 PNG of any size
 * @param label        the true digit, when known
 * @param timestamp    event time in epoch milliseconds, or null for the record's timestamp
 * @param source       who produced it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DigitImage(String id, int[] pixels, String pixelsBase64, String png, Integer label, Long timestamp,
        String source) {

    /** An image is {@value #SIDE} pixels on a side, {@value #PIXELS} bytes row-major, of one of {@value #DIGITS} digits. */
    public static final int SIDE = 28;
    public static final int PIXELS = SIDE * SIDE;
    public static final int DIGITS = 10;


    public static DigitImage ofPixels(final String id, final int[] pixels, final Integer label, final Long timestamp,
            final String source) {
        return new DigitImage(id, pixels, null, null, label, timestamp, source);
    }

    /** The compact form: the 784 bytes base64, a third the size of the number array and cheaper to read. */
    public static DigitImage ofPixelsBase64(final String id, final byte[] pixels, final Integer label,
            final Long timestamp, final String source) {
        return new DigitImage(id, null, Base64.getEncoder().encodeToString(pixels), null, label, timestamp,
                source);
    }

    public static DigitImage ofPng(final String id, final String pngBase64, final Integer label, final Long timestamp,
            final String source) {
        return new DigitImage(id, null, null, pngBase64, label, timestamp, source);
    }
}
