package io.digitstream.model;

/**
 * A model artifact that cannot be used; the message says what is wrong and what to do, the reason
 * names it in a word or two (bad-sha256, not-a-model, bad-shape, ...) for metrics and status records.
 */
public class ModelArtifactException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    /** The reason of a problem no narrower reason names. */
    public static final String BAD_ARTIFACT = "bad-artifact";

    private final String reason;

    public ModelArtifactException(final String message) {
        this(BAD_ARTIFACT, message, null);
    }

    public ModelArtifactException(final String message, final Throwable cause) {
        this(BAD_ARTIFACT, message, cause);
    }

    public ModelArtifactException(final String reason, final String message, final Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
