package io.digitstream.trainer;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.clients.CommonClientConfigs;

import picocli.CommandLine.Option;

import io.digitstream.releases.Releases;
import io.digitstream.releases.Replication;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.Topics;

/** The trainer's Kafka side: where the cluster is, and publishing the new model to digits.models. */
final class KafkaOptions {

    @Option(names = "--publish", description = "After training, publish the model to " + Topics.MODELS
            + ": running stream apps switch to it (or, with --shadow, run it beside the live one).")
    boolean publish;

    @Option(names = "--shadow", description = "With --publish: publish as the shadow candidate, not live.")
    boolean shadow;

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092", paramLabel = "HOST:PORT",
            description = "The Kafka cluster of --publish, --from-kafka and --fine-tune (default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Kafka client settings, e.g. --set security.protocol=SSL.")
    Map<String, String> settings = new LinkedHashMap<>();

    Map<String, Object> clientConfig() {
        final Map<String, Object> config = new HashMap<>(settings);
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return config;
    }

    Releases releases() {
        return new Releases(clientConfig(), Replication.FOLLOW_CLUSTER,
                System.getProperty("user.name", "trainer") + "@trainer");
    }

    void publishIfAsked(final Path artifact, final PrintWriter out) {
        if (!publish) {
            return;
        }
        final ModelControl control;
        try {
            control = releases().publish(artifact, shadow);
        } catch (final RuntimeException e) {
            throw new IllegalStateException("the model is saved in " + artifact + " but was not published ("
                    + e.getMessage() + "); publish it with ./run stream-app model publish " + artifact
                    + (shadow ? " --shadow" : ""), e);
        }
        out.printf(Locale.ROOT, "%-26s %s on %s (live: %s%s)%n", "published", artifact.getFileName(),
                bootstrapServers, control.live(), control.shadow() == null ? "" : ", shadow: " + control.shadow());
        out.flush();
    }
}
