package io.digitstream.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class DigitNetworkTest {

    @Test
    void hasTheSeedNetworksParameterCountAndShape() {
        final MultiLayerNetwork network = DigitNetwork.create(42, 1e-3);

        assertThat(network.numParams()).isEqualTo(DigitNetwork.PARAMETER_COUNT);
        assertThat(network.getnLayers()).isEqualTo(8);
        final INDArray out = network.output(DigitImages.toFeatures(new byte[3 * DigitNetwork.PIXELS], 0, 3));
        assertThat(out.shape()).containsExactly(3, DigitNetwork.CLASSES);
    }

    @Test
    void convolutionLayersRunOnOneDnnByDefault() {
        final MultiLayerNetwork network = DigitNetwork.create(42, 1e-3);
        network.output(DigitImages.toFeatures(new byte[2 * DigitNetwork.PIXELS], 0, 2));

        assertThat(NativeBackend.convolutionsUseOneDnn(network))
                .as("every ConvolutionLayer has an MKLDNNConvHelper")
                .isTrue();
        assertThat(NativeBackend.oneDnnAvailable())
                .as("DL4J's oneDNN check (needs the org.nd4j.nativeblas.Nd4jCpu shim and helpers enabled)")
                .isTrue();
    }

    @Test
    void savedArtifactLoadsToTheSameOutputs(@TempDir final Path dir) {
        final MultiLayerNetwork network = DigitNetwork.create(7, 1e-3);
        final byte[] pixels = new byte[5 * DigitNetwork.PIXELS];
        new Random(1).nextBytes(pixels);
        final INDArray before = network.output(DigitImages.toFeatures(pixels, 0, 5), false);
        final ModelMetadata metadata = new ModelMetadata("test-1", Instant.parse("2026-01-01T00:00:00Z"), null,
                null, Map.of("t10k-images-idx3-ubyte", "abc"), Map.of("epochs", 1), 1, 1, Map.of("accuracy", 0.5));

        final ModelMetadata written = ModelArtifact.save(dir.resolve("test-1"), network, metadata);
        final DigitClassifier classifier = DigitClassifier.load(dir.resolve("test-1"));

        assertThat(written.modelSha256()).hasSize(64);
        assertThat(classifier.modelVersion()).isEqualTo("test-1");
        assertThat(classifier.metadata()).isEqualTo(written);
        assertThat(classifier.probabilities(pixels, 0, 5).equalsWithEps(before, 1e-5)).isTrue();
        final List<byte[]> images = List.of(java.util.Arrays.copyOfRange(pixels, 0, DigitNetwork.PIXELS));
        assertThat(classifier.classify(images).get(0).probabilities())
                .containsExactly(before.getRow(0).toFloatVector(), org.assertj.core.api.Assertions.offset(1e-5f));
    }

    @Test
    void theNetworkForInferenceComputesWhatTheTrainedOneDoesInNhwc() {
        final MultiLayerNetwork trained = DigitNetwork.create(7, 1e-3);
        final byte[] pixels = new byte[6 * DigitNetwork.PIXELS];
        new Random(2).nextBytes(pixels);

        final MultiLayerNetwork inference = DigitNetwork.forInference(trained);

        assertThat(DigitNetwork.dataFormat(trained)).isEqualTo(CNN2DFormat.NCHW);
        assertThat(DigitNetwork.dataFormat(inference)).isEqualTo(CNN2DFormat.NHWC);
        final INDArray expected = trained.output(DigitImages.toFeatures(pixels, 0, 6), false);
        final INDArray actual = new DigitClassifier(inference, null).probabilities(pixels, 0, 6);
        assertThat(actual.equalsWithEps(expected, 1e-5)).as("%s vs %s", actual, expected).isTrue();
        // Without the dense layer's rows reordered the same weights compute something else.
        final MultiLayerNetwork unordered = DigitNetwork.create(8, 1e-3, CNN2DFormat.NHWC);
        unordered.setParams(trained.params().dup());
        assertThat(unordered.output(DigitImages.toFeatures(pixels, 0, 6, 6, CNN2DFormat.NHWC), false)
                .equalsWithEps(expected, 1e-3)).isFalse();
    }

    @Test
    void refusesAModelFileWhoseChecksumDoesNotMatch(@TempDir final Path dir) throws Exception {
        final MultiLayerNetwork network = DigitNetwork.create(7, 1e-3);
        ModelArtifact.save(dir, network, new ModelMetadata("v", Instant.now(), null, null, Map.of(), Map.of(),
                1, 1, Map.of()));
        java.nio.file.Files.write(dir.resolve(ModelArtifact.MODEL_FILE), new byte[] {1, 2, 3});

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelArtifactException.class)
                .hasMessageContaining("SHA-256")
                .hasMessageContaining(ModelArtifact.MODEL_FILE);
    }
}
