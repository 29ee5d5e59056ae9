package io.digitstream.stream.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import picocli.CommandLine.Option;

/** The cluster and client settings of the commands that talk to Kafka as a plain client. */
final class ClientOptions {

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092", paramLabel = "HOST:PORT",
            description = "The Kafka cluster (default: ${DEFAULT-VALUE}, where the demo's and the stream app's"
                    + " embedded broker listens).")
    String bootstrapServers;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Kafka client settings, e.g. --set security.protocol=SSL.")
    Map<String, String> settings = new LinkedHashMap<>();
}
