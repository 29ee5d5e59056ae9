package io.digitstream.trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's peak resident set size, as Linux reports it; JVM heap alone misses ND4J's off-heap memory. */
final class PeakMemory {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final long KIB = 1024;

    private PeakMemory() {
    }

    /** Peak RSS in bytes, or -1 where /proc is not available. */
    static long peakRssBytes() {
        try {
            for (final String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * KIB;
                }
            }
        } catch (final IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
