package io.digitstream.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * A few images and the probabilities the trainer's network gave them, kept with a model as {@value
 * #FILE}: whoever loads the model elsewhere classifies the same images and expects the same answers,
 * which catches a network that loads but computes something else (another backend, a damaged or
 * mismatched file).
 *
 * @param images        28x28 images, row-major bytes (base64 in JSON)
 * @param probabilities per image, the probability of each digit
 */
public record SelfTest(List<byte[]> images, List<float[]> probabilities) {

    public static final String FILE = "self-test.json";
    /** How many images a self-test holds. */
    public static final int IMAGES = 32;
    /** Largest difference in any probability that still counts as the same answer. */
    public static final double TOLERANCE = 1e-3;
    public static final String MISMATCH = "self-test-mismatch";
    /** Most images a self-test may hold: one forward pass of them must stay small. */
    static final int MAX_IMAGES = 256;

    public SelfTest {
        images = images == null ? List.of() : images;
        probabilities = probabilities == null ? List.of() : probabilities;
    }

    /** The self-test of {@code classifier} on {@code images}. */
    public static SelfTest of(final DigitClassifier classifier, final List<byte[]> images) {
        final List<float[]> probabilities = new ArrayList<>();
        classifier.classify(images).forEach(result -> probabilities.add(result.probabilities()));
        return new SelfTest(List.copyOf(images), probabilities);
    }

    /**
     * The self-test of {@code classifier} on noise images from a fixed seed, for a model saved without
     * one: it still shows another machine computes what this one does.
     */
    public static SelfTest ofNoise(final DigitClassifier classifier) {
        final Random random = new Random(IMAGES);
        final List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            final byte[] pixels = new byte[DigitNetwork.PIXELS];
            random.nextBytes(pixels);
            images.add(pixels);
        }
        return of(classifier, images);
    }

    /** What {@code classifier} answers differently from this self-test, or empty when it agrees. */
    public Optional<String> mismatch(final DigitClassifier classifier) {
        if (images.isEmpty() || images.size() > MAX_IMAGES || images.size() != probabilities.size()) {
            return Optional.of("the self-test holds " + images.size() + " images and " + probabilities.size()
                    + " answers");
        }
        for (final byte[] image : images) {
            if (image == null || image.length != DigitNetwork.PIXELS) {
                return Optional.of("a self-test image is not " + DigitNetwork.PIXELS + " pixels");
            }
        }
        final List<Classification> results = classifier.classify(images);
        for (int i = 0; i < images.size(); i++) {
            final float[] expected = probabilities.get(i);
            final float[] actual = results.get(i).probabilities();
            if (expected == null || expected.length != actual.length) {
                return Optional.of("self-test image " + i + " has " + (expected == null ? 0 : expected.length)
                        + " probabilities, the model gives " + actual.length);
            }
            for (int digit = 0; digit < actual.length; digit++) {
                if (!(Math.abs(expected[digit] - actual[digit]) <= TOLERANCE)) {
                    return Optional.of(String.format(Locale.ROOT,
                            "self-test image %d: probability of %d is %.4f, the trainer got %.4f", i, digit,
                            actual[digit], expected[digit]));
                }
            }
        }
        return Optional.empty();
    }

    public void write(final Path directory) {
        try {
            Json.MAPPER.writeValue(directory.resolve(FILE).toFile(), this);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write " + directory.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** The self-test saved in an artifact directory, if it has one. */
    public static Optional<SelfTest> read(final Path directory) {
        final Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.MAPPER.readValue(file.toFile(), SelfTest.class));
        } catch (final IOException e) {
            throw new ModelArtifactException(MISMATCH, "self-test file " + file + " is not valid: " + e.getMessage(),
                    e);
        }
    }
}
