package io.digitstream.trainer;

import java.nio.file.Path;

import io.digitstream.model.mnist.MnistData;
import io.digitstream.model.mnist.MnistLocator;

/** Real MNIST for tests, through the same chain users get, cached in the repository's data/ directory. */
final class TestMnist {

    static final Path CACHE_DIR = Path.of(System.getProperty("mnist.cache.dir", "../data/mnist"));

    private static MnistData data;

    private TestMnist() {
    }

    static synchronized MnistData data() {
        if (data == null) {
            data = MnistLocator.withDefaults(null, CACHE_DIR).locate().read();
        }
        return data;
    }
}
