package io.digitstream.stream.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.CommonClientConfigs;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.releases.Releases;
import io.digitstream.releases.Replication;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.Topics;

/**
 * {@code stream-app model}: publishes model releases to digits.models and says which one serves;
 * every running instance of the app follows.
 */
@Command(name = "model", mixinStandardHelpOptions = true, sortOptions = false,
        subcommands = {ModelCommand.Publish.class, ModelCommand.Promote.class, ModelCommand.Rollback.class,
            ModelCommand.DropShadow.class, ModelCommand.ListVersions.class},
        description = {"Model releases on " + Topics.MODELS + ": every running stream app follows them without"
                + " a restart.", "", "Subcommands: publish, promote, rollback, drop-shadow, list."})
final class ModelCommand implements Callable<Integer> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("stream-app model: name a subcommand: publish, promote, rollback,"
                + " drop-shadow or list. See 'stream-app model --help'.");
        return StreamApp.EXIT_USAGE;
    }

    /** The cluster, the client settings, and the topic's replication factor should this create it. */
    static final class ReleaseOptions {

        @Mixin
        ClientOptions client;

        @Option(names = "--replication-factor", defaultValue = "0", paramLabel = "N",
                description = "Replication factor of " + Topics.MODELS + " if this creates it"
                        + " (default: 3, or every broker of a smaller cluster).")
        short replicationFactor;

        Map<String, Object> clientConfig() {
            final Map<String, Object> config = new HashMap<>(client.settings());
            config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, client.bootstrapServers);
            return config;
        }

        Releases releases() {
            return new Releases(clientConfig(), new Replication(replicationFactor, Replication.FOLLOW),
                    System.getProperty("user.name", "someone") + "@" + hostName());
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (final java.io.IOException e) {
            return "unknown-host";
        }
    }

    static void printControl(final PrintWriter out, final ModelControl control) {
        out.printf(Locale.ROOT, "live: %s%s%s%n", control.live(),
                control.shadow() == null ? "" : ", shadow: " + control.shadow(),
                control.previous() == null ? "" : ", rollback to: " + control.previous());
        out.flush();
    }

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = "Checks a model artifact as the app would, then publishes it: live, or with --shadow as"
                    + " a candidate classifying the same images beside the live one.")
    static final class Publish implements Callable<Integer> {

        @Mixin
        private ReleaseOptions options;
        @Spec
        private CommandSpec spec;

        @Parameters(paramLabel = "MODEL", defaultValue = "models",
                description = "Model artifact, or a models directory with LATEST (default: ${DEFAULT-VALUE}).")
        private Path model;

        @Option(names = "--shadow", description = "Publish as the shadow candidate instead of live.")
        private boolean shadow;

        @Override
        public Integer call() {
            final ModelControl control = options.releases().publish(model, shadow);
            final PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "published %s to %s%n", shadow && !control.live().equals(control.shadow())
                    ? control.shadow() : control.live(), Topics.MODELS);
            printControl(out, control);
            return 0;
        }
    }

    /** A command that changes the control record and prints the new one. */
    abstract static class ControlChange implements Callable<Integer> {

        @Mixin
        private ReleaseOptions options;
        @Spec
        private CommandSpec spec;

        abstract ModelControl change(Releases releases);

        @Override
        public Integer call() {
            printControl(spec.commandLine().getOut(), change(options.releases()));
            return 0;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Makes the shadow model, or the given version, the live one.")
    static final class Promote extends ControlChange {

        @Parameters(paramLabel = "VERSION", arity = "0..1", description = "A published version (default: the shadow).")
        private String version;

        @Override
        ModelControl change(final Releases releases) {
            return releases.promote(version);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Brings back the version that was live before the current one.")
    static final class Rollback extends ControlChange {

        @Override
        ModelControl change(final Releases releases) {
            return releases.rollback();
        }
    }

    @Command(name = "drop-shadow", mixinStandardHelpOptions = true, description = "Stops the shadow model.")
    static final class DropShadow extends ControlChange {

        @Override
        ModelControl change(final Releases releases) {
            return releases.dropShadow();
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Every published version with its state, offline test accuracy, live accuracy on the"
                    + " labeled images so far, and refusals; then the history of changes.")
    static final class ListVersions implements Callable<Integer> {

        @Mixin
        private ReleaseOptions options;
        @Spec
        private CommandSpec spec;

        @Override
        public Integer call() {
            final var state = options.releases().read();
            final PrintWriter out = spec.commandLine().getOut();
            final List<Releases.Row> rows = Releases.rows(state);
            if (rows.isEmpty()) {
                out.println("no releases on " + Topics.MODELS + " yet; publish one with 'model publish'");
                out.flush();
                return 0;
            }
            final Map<String, LiveAccuracy.Tally> live = LiveAccuracy.read(options.clientConfig());
            out.printf(Locale.ROOT, "%-32s %-16s %9s  %-22s  %-19s  %s%n", "VERSION", "STATE", "TEST ACC",
                    "LIVE ACC (LABELED)", "PUBLISHED (UTC)", "NOTE");
            for (final Releases.Row row : rows) {
                final LiveAccuracy.Tally tally = live.get(row.version());
                out.printf(Locale.ROOT, "%-32s %-16s %9s  %-22s  %-19s  %s%n", row.version(), row.state(),
                        row.testAccuracy() == null ? "-" : String.format(Locale.ROOT, "%.2f%%",
                                100 * row.testAccuracy()),
                        tally == null || tally.total() == 0 ? "-" : String.format(Locale.ROOT, "%.2f%% (%,d)",
                                100 * tally.accuracy(), tally.total()),
                        TIME.format(Instant.ofEpochMilli(row.publishedAt())), row.note() == null ? "" : row.note());
            }
            state.control().ifPresent(control -> {
                out.println();
                out.println("history (newest last):");
                control.history().forEach(change -> out.printf(Locale.ROOT, "  %s  %-11s %s  %s%n",
                        TIME.format(Instant.ofEpochMilli(change.at())), change.action(), change.version(),
                        change.reason() == null ? "" : change.reason()));
            });
            out.flush();
            return 0;
        }
    }
}
