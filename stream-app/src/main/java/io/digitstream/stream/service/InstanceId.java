package io.digitstream.stream.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The instance's {@code group.instance.id} when none is set: one made on first start and kept in
 * the state directory, so an instance restarted on the same state is the same static member of the
 * group and takes its partitions back at once, instead of waiting out the session of the member it
 * was (docs/operations.md). Another state directory, another instance.
 */
final class InstanceId {

    static final String FILE = "digit-stream-instance-id";

    private InstanceId() {
    }

    static String of(final Path stateDir) {
        final Path file = stateDir.resolve(FILE);
        try {
            if (Files.isRegularFile(file)) {
                final String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!kept.isEmpty()) {
                    return kept;
                }
            }
            Files.createDirectories(stateDir);
            final String made = host() + "-" + UUID.randomUUID().toString().substring(0, 8);
            Files.writeString(file, made + System.lineSeparator(), StandardCharsets.UTF_8);
            return made;
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot keep this instance's id in " + file + ": " + e.getMessage()
                    + "; check state.dir, or set group.instance.id", e);
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
        } catch (final IOException e) {
            return "instance";
        }
    }
}
