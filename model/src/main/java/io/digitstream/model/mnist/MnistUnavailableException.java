package io.digitstream.model.mnist;

/** No source could supply verified MNIST files; the message lists every attempt. */
public class MnistUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public MnistUnavailableException(final String message) {
        super(message);
    }
}
