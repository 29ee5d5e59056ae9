package io.digitstream.stream.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;

/** Where the commands that replay MNIST find it, through the trainer's chain of sources. */
final class MnistOptions {

    @Option(names = "--cache-dir", defaultValue = "data/mnist", paramLabel = "DIR",
            description = "MNIST cache directory (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    /** The 10,000 test images. */
    MnistDataset testSet() {
        return MnistLocator.withDefaults(null, cacheDir).locate().read().test();
    }
}
