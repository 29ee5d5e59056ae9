package io.digitstream.benchmarks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;

/**
 * One thread classifying MNIST test images in batches of random size, as the stream app's batches
 * are under light load: padded to a few batch shapes ({@link DigitClassifier#classify}), or each
 * at its own size (with {@code --unpadded}), which overflows oneDNN's cache of generated code.
 * {@code benchmarks/scripts/benchmark-batch-shapes.sh} runs both side by side, one per core, so that both meet
 * the same machine.
 */
@Command(name = "batch-shape-benchmark", mixinStandardHelpOptions = true,
        description = "Images per second of one thread on batches of random size, padded or not.")
public final class BatchShapeBenchmark implements Callable<Integer> {

    @Option(names = "--model", defaultValue = "models", description = "Model artifact or models directory.")
    private Path model;

    @Option(names = "--cache-dir", defaultValue = "data/mnist", description = "MNIST cache directory.")
    private Path cacheDir;

    @Option(names = "--max-batch", defaultValue = "128", description = "Batches hold 1 to this many images.")
    private int maxBatch;

    @Option(names = "--seconds", defaultValue = "15", description = "Length of each measurement.")
    private int seconds;

    @Option(names = "--rounds", defaultValue = "3", description = "Measurements, after one unmeasured.")
    private int rounds;

    @Option(names = "--unpadded", description = "Run each batch at its own size, as before padding.")
    private boolean unpadded;

    public static void main(final String[] args) {
        System.exit(new CommandLine(new BatchShapeBenchmark()).execute(args));
    }

    @Override
    public Integer call() {
        if (maxBatch < 1 || seconds < 1 || rounds < 1) {
            System.err.println("batch-shape-benchmark: --max-batch, --seconds and --rounds must be above 0."
                    + " See 'batch-shape-benchmark --help'.");
            return 2;
        }
        final MnistDataset test = MnistLocator.withDefaults(null, cacheDir).locate().read().test();
        final DigitClassifier classifier = DigitClassifier.load(model);
        final List<byte[]> images = new ArrayList<>(maxBatch);
        for (int i = 0; i < maxBatch; i++) {
            images.add(Arrays.copyOfRange(test.pixels(), i * DigitNetwork.PIXELS, (i + 1) * DigitNetwork.PIXELS));
        }
        final Random sizes = new Random(1);
        for (int round = 0; round <= rounds; round++) {
            final long start = System.nanoTime();
            final long end = start + seconds * 1_000_000_000L;
            long classified = 0;
            while (System.nanoTime() < end) {
                final int size = 1 + sizes.nextInt(maxBatch);
                if (unpadded) {
                    // What classify did before padding: the batch's own shape, and every row read.
                    classifier.probabilities(test.pixels(), 0, size).dup('c').data().asFloat();
                } else {
                    classifier.classify(images.subList(0, size));
                }
                classified += size;
            }
            if (round > 0) {
                System.out.printf(Locale.ROOT, "%s: %,.0f images/s%n", unpadded ? "unpadded" : "padded",
                        classified / ((System.nanoTime() - start) / 1e9));
            }
        }
        return 0;
    }
}
