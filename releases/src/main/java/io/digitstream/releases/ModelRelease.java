package io.digitstream.releases;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.Json;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelArtifactException;
import io.digitstream.model.ModelMetadata;
import io.digitstream.model.SelfTest;

/**
 * A model release as it travels on {@code digits.models}: a ZIP archive of the artifact's {@value
 * ModelArtifact#METADATA_FILE}, {@value ModelArtifact#MODEL_FILE} and {@value SelfTest#FILE}, keyed by
 * the version (schemas/json/model-release.md). Opening one checks all of it before the network is
 * used: size, form, version, the model file's SHA-256, input and output shape, and the self-test.
 */
public final class ModelRelease {

    /** Largest release: a topic's {@code max.message.bytes} must allow it (ReleaseLog creates it so). */
    public static final int MAX_BYTES = 16 * 1024 * 1024;
    /** Largest file inside a release once inflated: a small archive must not unpack into gigabytes. */
    static final long MAX_ENTRY_BYTES = 64L * 1024 * 1024;
    private static final Set<String> ENTRIES = Set.of(ModelArtifact.METADATA_FILE, ModelArtifact.MODEL_FILE,
            SelfTest.FILE);
    /** A version is a file name and a record key: no separators, no leading dot or {@code @}. */
    public static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    public static final String TOO_LARGE = "too-large";
    public static final String NOT_A_RELEASE = "not-a-release";
    public static final String VERSION_MISMATCH = "version-mismatch";

    private ModelRelease() {
    }

    /** A release ready to use: its network, loaded and checked, and what it says about itself. */
    public record Opened(DigitClassifier classifier, ModelMetadata metadata, SelfTest selfTest) {

        public String version() {
            return metadata.version();
        }
    }

    /** A packed release and its version. */
    public record Packed(String version, byte[] bytes, ModelMetadata metadata) {
    }

    /**
     * Packs the artifact at {@code location} (see {@link ModelArtifact#resolve}) after loading it as a
     * stream app would. An artifact saved without a self-test gets one on noise images.
     */
    public static Packed pack(final Path location) {
        final Path directory = ModelArtifact.resolve(location);
        final DigitClassifier classifier = DigitClassifier.load(directory);
        final ModelMetadata metadata = classifier.metadata();
        if (metadata.version() == null || !VERSION.matcher(metadata.version()).matches()) {
            throw new ModelArtifactException("model " + directory + " has version '" + metadata.version()
                    + "', which cannot name a release (letters, digits, '.', '_' and '-', at most 128)");
        }
        final SelfTest selfTest = SelfTest.read(directory).orElseGet(() -> SelfTest.ofNoise(classifier));
        selfTest.mismatch(classifier).ifPresent(mismatch -> {
            throw new ModelArtifactException(SelfTest.MISMATCH, "model " + directory + " fails its own self-test ("
                    + mismatch + "); train it again with ./run train", null);
        });
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            put(zip, ModelArtifact.METADATA_FILE, Json.MAPPER.writeValueAsBytes(metadata));
            put(zip, ModelArtifact.MODEL_FILE, Files.readAllBytes(directory.resolve(metadata.modelFile())));
            put(zip, SelfTest.FILE, Json.MAPPER.writeValueAsBytes(selfTest));
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot pack " + directory + ": " + e.getMessage(), e);
        }
        if (bytes.size() > MAX_BYTES) {
            throw new ModelArtifactException(TOO_LARGE, "model " + directory + " packs into " + bytes.size()
                    + " bytes, more than a release may have (" + MAX_BYTES + ")", null);
        }
        return new Packed(metadata.version(), bytes.toByteArray(), metadata);
    }

    private static void put(final ZipOutputStream zip, final String name, final byte[] content) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(content);
        zip.closeEntry();
    }

    /**
     * Opens and checks the release {@code value} published under {@code key}, unpacking it into a
     * temporary directory under {@code workDir} that is gone when this returns.
     *
     * @throws ModelArtifactException with the reason of the first check that fails
     */
    public static Opened open(final String key, final byte[] value, final Path workDir) {
        checkSize(key, value);
        Path directory = null;
        try {
            Files.createDirectories(workDir);
            directory = Files.createTempDirectory(workDir, "release-");
            final ModelMetadata metadata = extract(key, value, directory);
            final DigitClassifier classifier = DigitClassifier.load(directory);
            final SelfTest selfTest = SelfTest.read(directory).orElseThrow(() -> new ModelArtifactException(
                    NOT_A_RELEASE, "release " + key + " has no " + SelfTest.FILE, null));
            selfTest.mismatch(classifier).ifPresent(mismatch -> {
                throw new ModelArtifactException(SelfTest.MISMATCH, "release " + key + " does not compute what its"
                        + " trainer did: " + mismatch, null);
            });
            return new Opened(classifier, metadata, selfTest);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot unpack release " + key + " into " + workDir + ": "
                    + e.getMessage(), e);
        } finally {
            deleteQuietly(directory);
        }
    }

    /**
     * Writes the three files of a release into {@code directory} as a model artifact, after checking
     * its form and version (not the network: {@link #open} does that).
     *
     * @return its metadata
     */
    public static ModelMetadata extract(final String key, final byte[] value, final Path directory)
            throws IOException {
        checkSize(key, value);
        Files.createDirectories(directory);
        unpack(key, value, directory);
        final ModelMetadata metadata = readMetadata(key, directory);
        if (!key.equals(metadata.version())) {
            throw new ModelArtifactException(VERSION_MISMATCH, "release " + key + " holds model version "
                    + metadata.version() + "; publish it under its own version", null);
        }
        if (metadata.modelFile() != null && !ModelArtifact.MODEL_FILE.equals(metadata.modelFile())) {
            throw new ModelArtifactException(NOT_A_RELEASE, "release " + key + " names model file '"
                    + metadata.modelFile() + "'; a release's is " + ModelArtifact.MODEL_FILE, null);
        }
        return metadata;
    }

    /** Writes the three files of a release into {@code directory}, refusing anything else in it. */
    private static void unpack(final String key, final byte[] value, final Path directory) throws IOException {
        int entries = 0;
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(value))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                if (!ENTRIES.contains(entry.getName()) || Files.exists(directory.resolve(entry.getName()))) {
                    throw new ModelArtifactException(NOT_A_RELEASE, "release " + key + " holds '" + entry.getName()
                            + "'; a release holds exactly " + ENTRIES, null);
                }
                try (OutputStream out = Files.newOutputStream(directory.resolve(entry.getName()))) {
                    copyAtMost(zip, out, MAX_ENTRY_BYTES, key, entry.getName());
                }
                entries++;
            }
        } catch (final ZipException e) {
            throw new ModelArtifactException(NOT_A_RELEASE, "release " + key + " is not a release archive: "
                    + e.getMessage(), e);
        }
        if (entries != ENTRIES.size()) {
            throw new ModelArtifactException(NOT_A_RELEASE, "release " + key + " is not a release archive (it holds "
                    + entries + " of the files " + ENTRIES + ")", null);
        }
    }

    private static void checkSize(final String key, final byte[] value) {
        if (value == null || value.length == 0) {
            throw new ModelArtifactException(NOT_A_RELEASE, "release " + key + " is empty", null);
        }
        if (value.length > MAX_BYTES) {
            throw new ModelArtifactException(TOO_LARGE, "release " + key + " has " + value.length
                    + " bytes, more than a release may have (" + MAX_BYTES + ")", null);
        }
    }

    private static void copyAtMost(final InputStream in, final OutputStream out, final long limit, final String key,
            final String name) throws IOException {
        final byte[] buffer = new byte[64 * 1024];
        long copied = 0;
        for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
            copied += read;
            if (copied > limit) {
                throw new ModelArtifactException(TOO_LARGE, "release " + key + ": " + name + " inflates past "
                        + limit + " bytes", null);
            }
            out.write(buffer, 0, read);
        }
    }

    private static ModelMetadata readMetadata(final String key, final Path directory) {
        try {
            return Json.MAPPER.readValue(directory.resolve(ModelArtifact.METADATA_FILE).toFile(), ModelMetadata.class);
        } catch (final IOException e) {
            throw new ModelArtifactException(NOT_A_RELEASE, "release " + key + " has unreadable metadata: "
                    + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(final Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            final List<Path> all = files.sorted(Comparator.reverseOrder()).toList();
            for (final Path file : all) {
                Files.deleteIfExists(file);
            }
        } catch (final IOException e) {
            // A temporary directory left behind is harmless; the next start's temp cleanup takes it.
        }
    }
}
