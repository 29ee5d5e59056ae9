package io.digitstream.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Classifies batches of 28x28 digit images with a loaded model artifact.
 *
 * <p>{@link MultiLayerNetwork#output} is synchronized: one instance serves one thread at a time.
 * Use {@link #copy()} to give each thread its own network.
 */
public final class DigitClassifier {

    private final MultiLayerNetwork network;
    private final ModelMetadata metadata;
    private final CNN2DFormat dataFormat;

    /**
     * Classifies with {@code network} itself, so a network in training is classified with its weights
     * of the moment; {@link #load} and {@link #forInference} classify with a faster copy.
     */
    public DigitClassifier(final MultiLayerNetwork network, final ModelMetadata metadata) {
        this.network = network;
        this.metadata = metadata;
        this.dataFormat = DigitNetwork.dataFormat(network);
    }

    /** Loads an artifact; see {@link ModelArtifact#resolve(Path)} for what {@code location} may be. */
    public static DigitClassifier load(final Path location) {
        final ModelArtifact artifact = ModelArtifact.load(location);
        final DigitClassifier classifier;
        final long[] shape;
        try {
            classifier = forInference(artifact.network(), artifact.metadata());
            shape = classifier.probabilities(new byte[DigitNetwork.PIXELS], 0, 1).shape();
        } catch (final RuntimeException e) {
            throw notADigitModel(artifact, ModelArtifact.BAD_SHAPE, e.getMessage(), e);
        }
        if (shape.length != 2 || shape[1] != DigitNetwork.CLASSES) {
            throw notADigitModel(artifact, ModelArtifact.BAD_SHAPE, "its output has shape " + Arrays.toString(shape),
                    null);
        }
        return classifier;
    }

    /** A model that loads but does not take a 28x28 image to 10 digit probabilities. */
    private static ModelArtifactException notADigitModel(final ModelArtifact artifact, final String reason,
            final String why, final Throwable cause) {
        return new ModelArtifactException(reason, "model " + artifact.directory() + " does not classify 28x28 images into "
                + DigitNetwork.CLASSES + " digits (" + why + "); train one with ./run train", cause);
    }

    /** Classifies with {@code trained} in the layout that classifies fastest ({@link DigitNetwork#forInference}). */
    public static DigitClassifier forInference(final MultiLayerNetwork trained, final ModelMetadata metadata) {
        return new DigitClassifier(DigitNetwork.forInference(trained), metadata);
    }

    /** The artifact's version, or "unsaved" for a network in training that has no metadata yet. */
    public String modelVersion() {
        return metadata == null ? "unsaved" : metadata.version();
    }

    public ModelMetadata metadata() {
        return metadata;
    }

    /** A classifier with its own copy of the network, for another thread. */
    public DigitClassifier copy() {
        return new DigitClassifier(network.clone(), metadata);
    }

    /** Class probabilities, one row per image, for images packed back to back in {@code pixels}. */
    public INDArray probabilities(final byte[] pixels, final int offset, final int count) {
        return network.output(DigitImages.toFeatures(pixels, offset, count, count, dataFormat), false);
    }

    /**
     * Classifies images of {@link DigitNetwork#PIXELS} bytes each, in one forward pass, padded with
     * blank images to one of a few batch shapes ({@link #paddedBatch}).
     */
    public List<Classification> classify(final List<byte[]> images) {
        if (images.isEmpty()) {
            return List.of();
        }
        final INDArray features = DigitImages.toFeatures(images, paddedBatch(images.size()), dataFormat);
        final INDArray output = network.output(features, false);
        // All rows at once: a row view per image is an INDArray and a deallocator each. The network
        // computes in float; widening to double would only add digits of noise to every prediction.
        final float[] all = output.dup('c').data().asFloat();
        final int classes = (int) output.size(1);
        final List<Classification> results = new ArrayList<>(images.size());
        // The padding's rows, after the images', are left unread.
        for (int i = 0; i < images.size(); i++) {
            results.add(toClassification(Arrays.copyOfRange(all, i * classes, (i + 1) * classes)));
        }
        return results;
    }

    /**
     * The batch shape a forward pass of {@code images} runs in: up to 16 as it is, above that rounded
     * up to one of eight sizes per doubling (at most an eighth more work, none for full batches of a
     * power of two). oneDNN, under ND4J, builds machine code for each layer at each batch shape and
     * caches 1,024 such primitives; a stream app's batches, of any size up to 128 at light load,
     * overflowed that cache, and a third of the primitives a forward pass needed were built again:
     * twice the CPU per image, four times the wait (docs/benchmarks.md). These shapes, about ten
     * primitives each, stay cached.
     */
    static int paddedBatch(final int images) {
        if (images <= 16) {
            return images;
        }
        final int step = Integer.highestOneBit(images - 1) / 8;
        return (images + step - 1) / step * step;
    }

    /**
     * Frees the native memory the calling thread's forward passes kept for reuse (ND4J's workspaces),
     * for a thread that classifies no more and is about to end. Left to itself, ND4J frees a dead
     * thread's workspaces whenever the garbage collector notices them; a thread that ends calls this
     * last, so that memory goes while the thread still owns it.
     */
    public static void releaseThreadMemory() {
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }

    static Classification toClassification(final float[] probabilities) {
        int best = 0;
        for (int digit = 1; digit < probabilities.length; digit++) {
            if (probabilities[digit] > probabilities[best]) {
                best = digit;
            }
        }
        return new Classification(best, probabilities[best], probabilities);
    }
}
