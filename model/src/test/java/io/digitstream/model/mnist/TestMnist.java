package io.digitstream.model.mnist;

import java.nio.file.Path;

/** Real MNIST for tests, through the same chain users get, cached in the repository's data/ directory. */
final class TestMnist {

    static final Path CACHE_DIR = Path.of(System.getProperty("mnist.cache.dir", "../data/mnist"));

    private static MnistData data;

    private TestMnist() {
    }

    static synchronized MnistData data() {
        if (data == null) {
            data = located().read();
        }
        return data;
    }

    static synchronized MnistLocator.Located located() {
        return MnistLocator.withDefaults(null, CACHE_DIR).locate();
    }
}
