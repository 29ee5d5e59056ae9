package io.digitstream.stream.cli;

/**
 * One image event to send, and the label to send later on digits.labels, if any.
 *
 * @param id        the image id, also the record key
 * @param value     the serialized image event
 * @param lateLabel the true digit to send as a late label, or null
 */
public record Outgoing(String id, byte[] value, Integer lateLabel) {
}
