package io.digitstream.stream.topology;

/**
 * Told of each image as it is classified, for views outside the stream (the dashboard shows the
 * latest ones with their pixels). Called on stream threads: it must be quick and never block.
 */
@FunctionalInterface
public interface ClassifiedImages {

    /** For a topology nobody watches. */
    ClassifiedImages NONE = (id, pixels) -> {
    };

    void classified(String id, byte[] pixels);
}
