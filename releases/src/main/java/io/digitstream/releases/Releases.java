package io.digitstream.releases;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import io.digitstream.model.ModelMetadata;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.ModelStatus;

/**
 * What a user does with model releases, as a Kafka client: publish an artifact (live or in shadow),
 * promote, roll back, drop the shadow, list. Every change reads the log to its end first and writes
 * one control record after it.
 */
public final class Releases {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    /** Names the live version wherever a version is asked for. */
    public static final String LIVE = "live";

    private final Map<String, Object> clientConfig;
    private final Replication replication;
    private final String by;
    /** The log as the change in progress read it. */
    private ReleaseLog.State lastRead;

    /**
     * @param clientConfig      the cluster and client settings (security and the like)
     * @param replication       of {@code digits.models} if it must be created
     * @param by                who acts, for the history: a user and host, or an app instance
     */
    public Releases(final Map<String, Object> clientConfig, final Replication replication, final String by) {
        this.clientConfig = clientConfig;
        this.replication = replication;
        this.by = by;
    }

    /** The log as it is now. */
    public ReleaseLog.State read() {
        ReleaseLog.ensureTopic(clientConfig, replication);
        try (ReleaseLog.Reader reader = new ReleaseLog.Reader(clientConfig)) {
            return reader.readToEnd(READ_TIMEOUT);
        }
    }

    /**
     * Packs, checks and publishes the artifact at {@code location}; it goes live, or into shadow
     * (the first release of all always goes live).
     */
    public ModelControl publish(final Path location, final boolean shadow) {
        return publish(ModelRelease.pack(location), shadow);
    }

    /** Publishes a release packed before. */
    public ModelControl publish(final ModelRelease.Packed packed, final boolean shadow) {
        final ReleaseLog.State state = read();
        try (ReleaseLog.Writer writer = new ReleaseLog.Writer(clientConfig)) {
            writer.release(packed.version(), packed.bytes());
            writer.status(new ModelStatus(packed.version(), ModelStatus.PUBLISHED, null, null, by,
                    System.currentTimeMillis()));
            final ModelControl current = state.control().orElse(null);
            final String reason = "published by " + by;
            final ModelControl next = shadow
                    ? ModelControls.shadow(current, packed.version(), reason, System.currentTimeMillis())
                    : ModelControls.publish(current, packed.version(), reason, System.currentTimeMillis());
            writer.control(next);
            return next;
        }
    }

    /** The shadow model, or {@code version} when given, goes live. */
    public ModelControl promote(final String version) {
        return change(current -> {
            if (version != null) {
                requireRelease(version);
            }
            return ModelControls.promote(current, version, "promoted by " + by, System.currentTimeMillis());
        });
    }

    public ModelControl rollback() {
        return change(current -> ModelControls.rollback(current, "rolled back by " + by, System.currentTimeMillis()));
    }

    public ModelControl dropShadow() {
        return change(current -> ModelControls.dropShadow(current, "dropped by " + by, System.currentTimeMillis()));
    }

    private void requireRelease(final String version) {
        if (lastRead.release(version).isEmpty()) {
            throw new IllegalArgumentException("no release " + version + " on digits.models; see 'model list'");
        }
    }

    /**
     * Reads the log to its end and writes the control record {@code change} makes of the current one
     * (null when there is none); a change that throws writes nothing.
     */
    public ModelControl change(final UnaryOperator<ModelControl> change) {
        lastRead = read();
        final ModelControl next = change.apply(lastRead.control().orElse(null));
        try (ReleaseLog.Writer writer = new ReleaseLog.Writer(clientConfig)) {
            writer.control(next);
        }
        return next;
    }

    /**
     * Writes a published release ({@code live}: the live one) into {@code directory} as a model
     * artifact, such as for training to start from.
     *
     * @return its metadata
     */
    public ModelMetadata download(final String version, final Path directory) {
        try (ReleaseLog.Reader reader = new ReleaseLog.Reader(clientConfig)) {
            final ReleaseLog.State state = reader.readToEnd(READ_TIMEOUT);
            final String wanted = LIVE.equals(version) ? state.control().map(ModelControl::live)
                    .orElseThrow(() -> new IllegalArgumentException("no model is live on digits.models yet"))
                    : version;
            final ReleaseLog.Release release = state.release(wanted).orElseThrow(() -> new IllegalArgumentException(
                    "no release " + wanted + " on digits.models; see 'stream-app model list'"));
            return ModelRelease.extract(wanted, reader.fetch(release, READ_TIMEOUT), directory);
        } catch (final java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write release " + version + " to " + directory + ": "
                    + e.getMessage(), e);
        }
    }

    /** One version as {@code model list} shows it. */
    public record Row(String version, String state, Double testAccuracy, long publishedAt, String note) {
    }

    /** Every release, oldest first, with its state. */
    public static List<Row> rows(final ReleaseLog.State state) {
        final ModelControl control = state.control().orElse(null);
        final List<Row> rows = new ArrayList<>();
        for (final ReleaseLog.Release release : state.releases()) {
            final String version = release.version();
            final ModelStatus status = state.status(version).orElse(null);
            String role = "published";
            if (control != null && version.equals(control.live())) {
                role = "live";
            } else if (control != null && version.equals(control.shadow())) {
                role = "shadow";
            } else if (control != null && version.equals(control.previous())) {
                role = "previous";
            }
            String note = null;
            if (status != null && ModelStatus.REFUSED.equals(status.state())) {
                role = "refused".equals(role) || "published".equals(role) || "previous".equals(role) ? "refused"
                        : role + ", refused";
                note = status.reason() + " (" + status.instance() + "): " + status.message();
            }
            final ModelMetadata metadata = release.metadata();
            final Double accuracy = metadata == null || metadata.testMetrics() == null ? null
                    : metadata.testMetrics().get("accuracy");
            rows.add(new Row(version, role, accuracy, release.publishedAt(),
                    note == null && metadata == null ? "metadata unreadable" : note));
        }
        return rows;
    }
}
