package io.digitstream.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * The model artifact: one directory per version holding {@value #MODEL_FILE} (a DL4J
 * ModelSerializer zip without updater state) and {@value #METADATA_FILE}. A models root directory
 * names its newest version in {@value #LATEST_FILE}.
 *
 * @param directory the artifact's directory
 * @param metadata  its metadata
 * @param network   the restored network
 */
public record ModelArtifact(Path directory, ModelMetadata metadata, MultiLayerNetwork network) {

    public static final String MODEL_FILE = "model.zip";
    public static final String METADATA_FILE = "metadata.json";
    public static final String LATEST_FILE = "LATEST";
    /** Reasons of {@link ModelArtifactException}s. */
    public static final String BAD_SHA256 = "bad-sha256";
    public static final String NOT_A_MODEL = "not-a-model";
    public static final String BAD_SHAPE = "bad-shape";

    /**
     * Writes the network and its metadata into {@code directory} (created if missing), filling in the
     * model file's name and SHA-256. Returns the metadata as written.
     */
    public static ModelMetadata save(final Path directory, final MultiLayerNetwork network,
            final ModelMetadata metadata) {
        try {
            Files.createDirectories(directory);
            final Path modelFile = directory.resolve(MODEL_FILE);
            ModelSerializer.writeModel(network, modelFile.toFile(), false);
            final ModelMetadata written = new ModelMetadata(metadata.version(), metadata.createdAt(), MODEL_FILE,
                    sha256(modelFile), metadata.datasetSha256(), metadata.hyperparameters(), metadata.epochsRun(),
                    metadata.bestEpoch(), metadata.testMetrics());
            writeMetadata(directory, written);
            return written;
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write model artifact to " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Rewrites only the metadata of an existing artifact (e.g. after a re-evaluation). */
    public static void writeMetadata(final Path directory, final ModelMetadata metadata) throws IOException {
        Json.MAPPER.writeValue(directory.resolve(METADATA_FILE).toFile(), metadata);
    }

    /** Records {@code version} as the newest artifact under {@code modelsRoot}. */
    public static void markLatest(final Path modelsRoot, final String version) throws IOException {
        Files.writeString(modelsRoot.resolve(LATEST_FILE), version + System.lineSeparator());
    }

    /**
     * Resolves what a user passed as a model: an artifact directory, a models root with a
     * {@value #LATEST_FILE} file, or the {@value #MODEL_FILE} inside an artifact directory.
     */
    public static Path resolve(final Path location) {
        if (Files.isRegularFile(location) && location.getFileName().toString().equals(MODEL_FILE)) {
            return location.toAbsolutePath().getParent();
        }
        if (Files.isRegularFile(location.resolve(METADATA_FILE))) {
            return location;
        }
        final Path latest = location.resolve(LATEST_FILE);
        if (Files.isRegularFile(latest)) {
            try {
                return location.resolve(Files.readString(latest).trim());
            } catch (final IOException e) {
                throw new ModelArtifactException("cannot read " + latest + ": " + e.getMessage(), e);
            }
        }
        throw new ModelArtifactException("no model artifact at " + location + " (expected " + METADATA_FILE
                + " and " + MODEL_FILE + ", or a " + LATEST_FILE + " file naming one); train one with ./run train");
    }

    /** Loads and verifies an artifact; see {@link #resolve(Path)} for what {@code location} may be. */
    public static ModelArtifact load(final Path location) {
        NativeBackend.configure();
        final Path directory = resolve(location);
        final Path metadataFile = directory.resolve(METADATA_FILE);
        if (!Files.isRegularFile(metadataFile)) {
            throw new ModelArtifactException("model artifact " + directory + " has no " + METADATA_FILE
                    + "; train one with ./run train");
        }
        final ModelMetadata metadata;
        try {
            metadata = Json.MAPPER.readValue(metadataFile.toFile(), ModelMetadata.class);
        } catch (final IOException e) {
            throw new ModelArtifactException("metadata file " + metadataFile + " is not valid JSON: "
                    + e.getMessage(), e);
        }
        final Path modelFile = directory.resolve(metadata.modelFile() == null ? MODEL_FILE : metadata.modelFile());
        if (!Files.isRegularFile(modelFile)) {
            throw new ModelArtifactException("model file " + modelFile + " is missing; train one with ./run train");
        }
        final String actual = sha256(modelFile);
        if (metadata.modelSha256() != null && !metadata.modelSha256().equals(actual)) {
            throw new ModelArtifactException(BAD_SHA256, "model file " + modelFile + " has SHA-256 " + actual
                    + " but its metadata says " + metadata.modelSha256() + "; the file is corrupt or was replaced: copy it"
                    + " again, or train one with ./run train", null);
        }
        try {
            final MultiLayerNetwork network = ModelSerializer.restoreMultiLayerNetwork(modelFile.toFile(), false);
            return new ModelArtifact(directory, metadata, network);
        } catch (final IOException | RuntimeException e) {
            throw new ModelArtifactException(NOT_A_MODEL, "model file " + modelFile + " is not a DL4J model: "
                    + e.getMessage()
                    + "; train one with ./run train", e);
        }
    }

    /** Lower-case hex SHA-256 of a file's bytes. */
    public static String sha256(final Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Lower-case hex SHA-256 of everything left in a stream. */
    public static String sha256(final InputStream in) throws IOException {
        final MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        try (DigestInputStream digesting = new DigestInputStream(in, digest)) {
            digesting.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
