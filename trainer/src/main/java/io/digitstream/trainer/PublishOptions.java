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
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.Topics;

/** {@code --publish}: sends the new model to digits.models, where every running stream app picks it up. */
final class PublishOptions {

    @Option(names = "--publish", description = "After training, publish the model to " + Topics.MODELS
            + ": running stream apps switch to it (or, with --shadow, run it beside the live one).")
    boolean publish;

    @Option(names = "--shadow", description = "With --publish: publish as the shadow candidate, not live.")
    boolean shadow;

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092", paramLabel = "HOST:PORT",
            description = "With --publish: the Kafka cluster (default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "With --publish: Kafka client settings, e.g. --set security.protocol=SSL.")
    Map<String, String> settings = new LinkedHashMap<>();

    void publishIfAsked(final Path artifact, final PrintWriter out) {
        if (!publish) {
            return;
        }
        final Map<String, Object> config = new HashMap<>(settings);
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        final ModelControl control;
        try {
            control = new Releases(config, (short) 1, System.getProperty("user.name", "trainer") + "@trainer")
                    .publish(artifact, shadow);
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
