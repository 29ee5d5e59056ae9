package io.digitstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitImages;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelMetadata;
import io.digitstream.model.SelfTest;
import io.digitstream.model.mnist.MnistData;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.MnistLocator;
import io.digitstream.stream.cli.StreamApp;
import io.digitstream.stream.service.AppConfig;

/** Real MNIST and a real model trained on it in a few seconds, shared by the tests of one JVM. */
public final class TestFixtures {

    public static final String MODEL_VERSION = "test-model-1";
    /** Where tests find MNIST, through the same chain users get: the repository's data/ directory. */
    public static final Path MNIST_CACHE_DIR = Path.of(System.getProperty("mnist.cache.dir", "../data/mnist"));
    private static final int TRAIN_IMAGES = 8_000;
    private static final int BATCH = 64;

    private static MnistData mnist;
    private static MultiLayerNetwork network;
    private static DigitClassifier classifier;

    private TestFixtures() {
    }

    public static synchronized MnistData mnist() {
        if (mnist == null) {
            mnist = MnistLocator.withDefaults(null, MNIST_CACHE_DIR).locate().read();
        }
        return mnist;
    }

    /** The seed network after one pass over 8,000 training images: about 93% accurate. */
    public static synchronized DigitClassifier classifier() {
        if (classifier == null) {
            final MnistDataset train = mnist().train().limit(TRAIN_IMAGES);
            network = DigitNetwork.create(42, 1e-3);
            for (int from = 0; from < train.count(); from += BATCH) {
                final int count = Math.min(BATCH, train.count() - from);
                final INDArray labels = Nd4j.zeros(DataType.FLOAT, count, DigitNetwork.CLASSES);
                for (int i = 0; i < count; i++) {
                    labels.putScalar(i, train.label(from + i), 1f);
                }
                network.fit(new DataSet(DigitImages.toFeatures(train.pixels(), from, count), labels));
            }
            classifier = new DigitClassifier(network, new ModelMetadata(MODEL_VERSION, Instant.now(), null, null,
                    Map.of(), Map.of(), 1, 1, Map.of()));
        }
        return classifier;
    }

    /** The network behind {@link #classifier()}, to save as an artifact. */
    public static synchronized MultiLayerNetwork network() {
        classifier();
        return network;
    }

    /**
     * Settings for a stream app on the test broker, serving the test model saved under {@code dir},
     * with its own application id and state directory.
     */
    public static Map<String, String> appSettings(final Path dir, final String name) {
        ModelArtifact.save(dir.resolve("model"), network(), classifier().metadata());
        final Map<String, String> settings = new java.util.HashMap<>();
        settings.put(AppConfig.BOOTSTRAP_SERVERS, KafkaClusterExtension.bootstrapServers());
        settings.put(AppConfig.MODEL, dir.resolve("model").toString());
        settings.put(AppConfig.HTTP_PORT, "0");
        settings.put("application.id", name + "-" + java.util.UUID.randomUUID());
        settings.put("state.dir", dir.resolve("state").toString());
        settings.put("commit.interval.ms", "100");
        return settings;
    }

    /**
     * Saves the test network as an artifact of its own version, with a self-test on the first MNIST
     * test images, as the trainer writes one; returns its directory.
     */
    public static Path saveModel(final Path dir, final String version) {
        return saveModel(dir, version, network(), 0.93);
    }

    /** Saves {@code network} as {@link #saveModel(Path, String)} does, claiming {@code testAccuracy}. */
    public static Path saveModel(final Path dir, final String version, final MultiLayerNetwork network,
            final double testAccuracy) {
        final Path model = dir.resolve(version);
        ModelArtifact.save(model, network, new ModelMetadata(version, Instant.now(), null, null, Map.of(),
                Map.of(), 1, 1, Map.of("accuracy", testAccuracy)));
        final List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < SelfTest.IMAGES; i++) {
            images.add(Arrays.copyOfRange(mnist().test().pixels(), i * DigitNetwork.PIXELS,
                    (i + 1) * DigitNetwork.PIXELS));
        }
        SelfTest.of(DigitClassifier.load(model), images).write(model);
        return model;
    }

    /** What {@code classifier} predicts for each image of {@code test}, computed offline in batches. */
    public static int[] offlinePredictions(final DigitClassifier classifier, final MnistDataset test) {
        final int[] predicted = new int[test.count()];
        final int batch = 500;
        for (int from = 0; from < test.count(); from += batch) {
            final var best = classifier.probabilities(test.pixels(), from, Math.min(batch, test.count() - from))
                    .argMax(1);
            for (int i = 0; i < best.length(); i++) {
                predicted[from + i] = best.getInt(i);
            }
        }
        return predicted;
    }

    /** Runs {@code stream-app} with {@code args}, checks that it exits with 0, and returns what it printed. */
    public static String runForOutput(final String... args) {
        final PrintStream original = System.out;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(StreamApp.run(args)).isZero();
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Runs the CLI, asserts it exits with {@code code}, and returns what it printed on stderr. */
    public static String runForErrors(final int code, final String... args) {
        final PrintStream original = System.err;
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            assertThat(StreamApp.run(args)).isEqualTo(code);
        } finally {
            System.setErr(original);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Test image {@code index} as the 784 ints of a DigitImage. */
    public static int[] pixels(final int index) {
        final int[] pixels = new int[DigitNetwork.PIXELS];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = mnist().test().pixels()[index * DigitNetwork.PIXELS + i] & 0xFF;
        }
        return pixels;
    }

    /** A message as the JSON text a producer sends. */
    public static String json(final Object message) {
        return new String(io.digitstream.schemas.JsonSerde.serdeFor(Object.class).serialize("t", message),
                StandardCharsets.UTF_8);
    }
}
