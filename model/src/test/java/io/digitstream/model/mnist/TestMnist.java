package io.digitstream.model.mnist;

import java.nio.file.Path;

/**
 * Real MNIST for the model's and the trainer's tests, through the same chain users get, cached in the
 * repository's data/ directory.
 */
public final class TestMnist {

    public static final Path CACHE_DIR = Path.of(System.getProperty("mnist.cache.dir", "../data/mnist"));

    private static MnistData data;

    private TestMnist() {
    }

    public static synchronized MnistData data() {
        if (data == null) {
            data = located().read();
        }
        return data;
    }

    public static synchronized MnistLocator.Located located() {
        return MnistLocator.withDefaults(null, CACHE_DIR).locate();
    }
}
