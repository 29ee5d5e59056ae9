package io.digitstream.model.mnist;

/** An IDX file that is not what MNIST needs; the message names the file and the fault. */
public class IdxFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public IdxFormatException(final String message) {
        super(message);
    }
}
