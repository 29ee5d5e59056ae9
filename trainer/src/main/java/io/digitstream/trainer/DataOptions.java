package io.digitstream.trainer;

import java.nio.file.Path;
import java.util.List;

import picocli.CommandLine.Option;
import io.digitstream.model.mnist.MnistData;
import io.digitstream.model.mnist.MnistLocator;

/** Where the commands find MNIST. */
final class DataOptions {

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Directory with the four MNIST IDX files (raw or .gz); tried first.")
    Path dataDir;

    @Option(names = "--cache-dir", paramLabel = "DIR", defaultValue = "data/mnist",
            description = "Where verified MNIST files are kept between runs (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--offline",
            description = "Do not download: use only --data-dir and the cache.")
    boolean offline;

    MnistData load() {
        final MnistLocator locator = offline ? new MnistLocator(dataDir, cacheDir, List.of(), false)
                : MnistLocator.withDefaults(dataDir, cacheDir);
        return locator.locate().read();
    }
}
