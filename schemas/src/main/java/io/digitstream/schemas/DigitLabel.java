package io.digitstream.schemas;

/**
 * Ground truth for an earlier image (schemas/json/digit-label.schema.json).
 *
 * @param id    the image's id
 * @param label the true digit
 */
public record DigitLabel(String id, Integer label) {
}
