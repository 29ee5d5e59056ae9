package io.digitstream.stream.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import picocli.CommandLine.Option;

/** The cluster and client settings of the commands that talk to Kafka as a plain client. */
final class ClientOptions {

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092", paramLabel = "HOST:PORT",
            description = "The Kafka cluster (default: ${DEFAULT-VALUE}, where the demo's and the stream app's"
                    + " embedded broker listens).")
    String bootstrapServers;

    @Option(names = "--client-config", paramLabel = "FILE",
            description = "A properties file of Kafka client settings, such as security (docs/security.md).")
    Path clientConfig;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Kafka client settings, over those of --client-config, e.g. --set security.protocol=SSL.")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** The client settings: the file's, then the flags'. */
    Map<String, String> settings() {
        final Map<String, String> settings = new LinkedHashMap<>();
        if (clientConfig != null) {
            final Properties file = new Properties();
            try (Reader in = Files.newBufferedReader(clientConfig)) {
                file.load(in);
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read --client-config " + clientConfig + ": " + e.getMessage(),
                        e);
            }
            file.stringPropertyNames().forEach(key -> settings.put(key, file.getProperty(key).strip()));
        }
        settings.putAll(overrides);
        return settings;
    }
}
