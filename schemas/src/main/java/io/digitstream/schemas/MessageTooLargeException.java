package io.digitstream.schemas;

import org.apache.kafka.common.errors.SerializationException;

/** A message over the size limit of its serde; rejected before parsing. */
public class MessageTooLargeException extends SerializationException {

    private static final long serialVersionUID = 1L;

    public MessageTooLargeException(final String message) {
        super(message);
    }
}
