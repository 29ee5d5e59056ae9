package io.digitstream.model.mnist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistLocatorTest {

    private static MnistLocator.Located real;

    @TempDir
    Path dir;

    @BeforeAll
    static void findRealFiles() {
        real = TestMnist.located();
    }

    @Test
    void usesADataDirectoryWithVerifiedFilesFirst() throws IOException {
        final Path dataDir = copyRealFilesTo(dir.resolve("mine"));
        // One file gzip-compressed: the checksum covers the content, not the compression.
        gzip(dataDir.resolve(MnistFile.TEST_LABELS.fileName()));

        final MnistLocator.Located found = new MnistLocator(dataDir, dir.resolve("empty-cache"), List.of(), false)
                .locate();

        assertThat(found.source()).isEqualTo("--data-dir " + dataDir);
        assertThat(found.path(MnistFile.TEST_LABELS)).hasFileName("t10k-labels-idx1-ubyte.gz");
        assertThat(found.read().test().count()).isEqualTo(10_000);
    }

    @Test
    void skipsADataDirectoryWhoseFileFailsItsChecksumAndFallsBackToTheCache() throws IOException {
        final Path dataDir = copyRealFilesTo(dir.resolve("mine"));
        corrupt(dataDir.resolve(MnistFile.TRAIN_LABELS.fileName()));
        final Path cache = copyRealFilesTo(dir.resolve("cache"));

        final MnistLocator.Located found = new MnistLocator(dataDir, cache, List.of(), false).locate();

        assertThat(found.source()).isEqualTo("cache " + cache);
    }

    @Test
    void failsWithEveryAttemptListedWhenNoSourceHasVerifiedFiles() throws IOException {
        final Path dataDir = copyRealFilesTo(dir.resolve("mine"));
        corrupt(dataDir.resolve(MnistFile.TEST_IMAGES.fileName()));

        assertThatThrownBy(() -> new MnistLocator(dataDir, dir.resolve("empty-cache"),
                List.of(java.net.URI.create("https://127.0.0.1:9/mnist/")), false).locate())
                .isInstanceOf(MnistUnavailableException.class)
                .hasMessageContaining("--data-dir " + dataDir + ": t10k-images-idx3-ubyte has SHA-256")
                .hasMessageContaining("expected " + MnistFile.TEST_IMAGES.sha256())
                .hasMessageContaining("cache " + dir.resolve("empty-cache") + ": train-images-idx3-ubyte missing")
                .hasMessageContaining("mirror https://127.0.0.1:9/mnist/")
                .hasMessageContaining("pass --data-dir DIR");
    }

    private static Path copyRealFilesTo(final Path target) throws IOException {
        Files.createDirectories(target);
        for (final MnistFile file : MnistFile.values()) {
            Files.copy(real.path(file), target.resolve(file.fileName()));
        }
        return target;
    }

    private static void corrupt(final Path file) throws IOException {
        final byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, bytes);
    }

    private static void gzip(final Path file) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(Path.of(file + ".gz")))) {
            Files.copy(file, out);
        }
        Files.delete(file);
    }
}
