package io.digitstream.releases;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelArtifactException;
import io.digitstream.model.ModelMetadata;

/** Releases are checked whole before use: each way a release can be wrong is refused with its reason. */
class ModelReleaseTest {

    private static final String VERSION = "release-test-1";

    @TempDir
    static Path dir;
    private static byte[] release;

    @BeforeAll
    static void packOne() {
        final MultiLayerNetwork network = DigitNetwork.create(7, 1e-3);
        ModelArtifact.save(dir.resolve(VERSION), network, metadata(VERSION));
        release = ModelRelease.pack(dir.resolve(VERSION)).bytes();
    }

    private static ModelMetadata metadata(final String version) {
        return new ModelMetadata(version, Instant.now(), null, null, Map.of(), Map.of(), 1, 1,
                Map.of("accuracy", 0.5));
    }

    @Test
    void aPackedReleaseOpensAndClassifiesAsItsTrainerDid() {
        final ModelRelease.Opened opened = ModelRelease.open(VERSION, release, dir.resolve("work"));
        assertThat(opened.version()).isEqualTo(VERSION);
        assertThat(opened.selfTest().images()).hasSize(32);
        assertThat(opened.selfTest().mismatch(opened.classifier())).isEmpty();
        assertThat(ReleaseLog.metadataOf(release)).get().extracting(ModelMetadata::version).isEqualTo(VERSION);
        assertThat(dir.resolve("work")).isEmptyDirectory();
    }

    @Test
    void aReleaseUnderAnotherVersionIsRefused() {
        assertRefused("someone-else", release, ModelRelease.VERSION_MISMATCH);
    }

    @Test
    void aModelFileThatDoesNotMatchItsShaIsRefused() throws IOException {
        final Map<String, byte[]> entries = ReleaseArchives.entries(release);
        final byte[] model = entries.get(ModelArtifact.MODEL_FILE);
        // Another network of the same shape: a valid model, but not the one the metadata vouches for.
        final Path other = dir.resolve("other");
        ModelArtifact.save(other, DigitNetwork.create(8, 1e-3), metadata(VERSION));
        entries.put(ModelArtifact.MODEL_FILE, Files.readAllBytes(other.resolve(ModelArtifact.MODEL_FILE)));
        assertThat(entries.get(ModelArtifact.MODEL_FILE)).isNotEqualTo(model);
        assertRefused(VERSION, ReleaseArchives.zip(entries), ModelArtifact.BAD_SHA256);
    }

    @Test
    void aSelfTestTheNetworkDoesNotReproduceIsRefused() throws IOException {
        final Map<String, byte[]> entries = ReleaseArchives.entries(release);
        // The other network's self-test: the right shape, other answers.
        final Path other = dir.resolve("other-self-test");
        ModelArtifact.save(other, DigitNetwork.create(9, 1e-3), metadata("other-self-test"));
        entries.put("self-test.json", ReleaseArchives.entries(ModelRelease.pack(other).bytes()).get("self-test.json"));
        assertRefused(VERSION, ReleaseArchives.zip(entries), "self-test-mismatch");
    }

    @Test
    void aNetworkOfAnotherShapeIsRefused() throws IOException {
        final Map<String, byte[]> entries = ReleaseArchives.entries(release);
        final Path wrong = dir.resolve("wrong-shape");
        final MultiLayerNetwork threeClasses = new MultiLayerNetwork(
                new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().list()
                        .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(784).nOut(3)
                                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                        .build());
        threeClasses.init();
        ModelArtifact.save(wrong, threeClasses, metadata(VERSION));
        entries.put(ModelArtifact.MODEL_FILE, Files.readAllBytes(wrong.resolve(ModelArtifact.MODEL_FILE)));
        entries.put(ModelArtifact.METADATA_FILE, Files.readAllBytes(wrong.resolve(ModelArtifact.METADATA_FILE)));
        assertRefused(VERSION, ReleaseArchives.zip(entries), ModelArtifact.BAD_SHAPE);
    }

    @Test
    void whatIsNotAReleaseIsRefused() throws IOException {
        assertRefused(VERSION, "just some text".getBytes(), ModelRelease.NOT_A_RELEASE);
        assertRefused(VERSION, new byte[0], ModelRelease.NOT_A_RELEASE);
        final Map<String, byte[]> extra = ReleaseArchives.entries(release);
        extra.put("../../escape", new byte[1]);
        assertRefused(VERSION, ReleaseArchives.zip(extra), ModelRelease.NOT_A_RELEASE);
        final Map<String, byte[]> notAModel = ReleaseArchives.entries(release);
        notAModel.put(ModelArtifact.MODEL_FILE, "not a zip".getBytes());
        // The metadata's SHA-256 of the bytes, so the check that fails is the loading.
        final ModelMetadata withSha = new ModelMetadata(VERSION, Instant.now(), ModelArtifact.MODEL_FILE,
                sha256("not a zip".getBytes()), Map.of(), Map.of(), 1, 1, Map.of());
        notAModel.put(ModelArtifact.METADATA_FILE, io.digitstream.model.Json.MAPPER.writeValueAsBytes(withSha));
        assertRefused(VERSION, ReleaseArchives.zip(notAModel), ModelArtifact.NOT_A_MODEL);
    }

    @Test
    void aReleaseTooLargeOrInflatingTooFarIsRefused() throws IOException {
        assertRefused(VERSION, new byte[ModelRelease.MAX_BYTES + 1], ModelRelease.TOO_LARGE);
        final Map<String, byte[]> bomb = ReleaseArchives.entries(release);
        bomb.put("self-test.json", new byte[(int) ModelRelease.MAX_ENTRY_BYTES + 1]);
        final byte[] zipped = ReleaseArchives.zip(bomb);
        assertThat(zipped.length).isLessThan(ModelRelease.MAX_BYTES);
        assertRefused(VERSION, zipped, ModelRelease.TOO_LARGE);
    }

    private static void assertRefused(final String key, final byte[] value, final String reason) {
        assertThatThrownBy(() -> ModelRelease.open(key, value, dir.resolve("work")))
                .isInstanceOfSatisfying(ModelArtifactException.class,
                        e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason));
        if (Files.exists(dir.resolve("work"))) {
            assertThat(dir.resolve("work")).as("nothing left unpacked").isEmptyDirectory();
        }
    }

    private static String sha256(final byte[] bytes) throws IOException {
        return ModelArtifact.sha256(new ByteArrayInputStream(bytes));
    }
}
