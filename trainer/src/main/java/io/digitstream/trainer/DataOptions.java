package io.digitstream.trainer;

import java.nio.file.Path;
import java.util.List;

import picocli.CommandLine.Option;

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
        final MnistLocator locator = new MnistLocator(dataDir, cacheDir,
                offline ? List.of() : MnistLocator.DEFAULT_MIRRORS, !offline);
        return locator.locate().read();
    }
}
