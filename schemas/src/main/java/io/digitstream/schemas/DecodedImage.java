package io.digitstream.schemas;

/**
 * An image event that passed validation, in the model's input form.
 *
 * @param id        image id
 * @param pixels    784 bytes, row-major 28x28, ink high
 * @param label     the true digit when the event carried one
 * @param eventTime epoch milliseconds
 */
public record DecodedImage(String id, byte[] pixels, Integer label, long eventTime) {
}
