package io.digitstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Dependencies point one way, cli -> service -> topology: no class names a package above its own. */
class LayersTest {

    private static final Path SOURCES = Path.of("src/main/java/io/digitstream/stream");

    @ParameterizedTest
    @CsvSource({"topology, service", "topology, cli", "service, cli"})
    void noClassReachesUp(final String layer, final String above) throws IOException {
        final String higher = "io.digitstream.stream." + above + ".";
        try (Stream<Path> files = Files.walk(SOURCES.resolve(layer))) {
            final List<Path> offenders = files.filter(file -> file.toString().endsWith(".java"))
                    .filter(file -> read(file).contains(higher)).toList();
            assertThat(offenders).as("classes in %s naming %s", layer, higher).isEmpty();
        }
        assertThat(SOURCES.resolve(layer)).isDirectory();
    }

    private static String read(final Path file) {
        try {
            return Files.readString(file);
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
