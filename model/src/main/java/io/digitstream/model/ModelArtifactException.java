package io.digitstream.model;

/** A model artifact that cannot be used; the message says what is wrong and what to do. */
public class ModelArtifactException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ModelArtifactException(final String message) {
        super(message);
    }

    public ModelArtifactException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
