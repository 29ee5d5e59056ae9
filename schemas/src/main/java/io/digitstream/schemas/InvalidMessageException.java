package io.digitstream.schemas;

/**
 * A message the topology cannot use. The dead-letter handler files the original record under
 * {@link #reason()}, a short code (see schemas/json/dead-letter.md), with the message as detail.
 */
public class InvalidMessageException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String reason;

    public InvalidMessageException(final String reason, final String message) {
        super(message);
        this.reason = reason;
    }

    public InvalidMessageException(final String reason, final String message, final Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
