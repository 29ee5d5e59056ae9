package io.digitstream.stream.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MeterRegistry;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.ModelArtifactException;
import io.digitstream.releases.ModelRelease;
import io.digitstream.releases.ReleaseLog;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.ModelStatus;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.topology.ClassifierPool;
import io.digitstream.stream.topology.StreamMetrics;

/**
 * Follows {@code digits.models} and switches the running app to whatever the control record names
 * live. A release is opened and checked in full ({@link ModelRelease#open}) before any stream thread
 * sees it; one that fails is refused with its reason (a log line, {@code
 * digits_model_releases_refused_total{reason}}, a status record on the topic) and the running model
 * keeps serving.
 */
public final class ModelFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ModelFollower.class);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(5);

    private final ReleaseLog.Reader reader;
    private final Map<String, Object> producerConfig;
    private final Path workDir;
    private final String instance;
    private final ModelMetrics modelMetrics;
    /** Releases refused, by version and offset, so the same bytes are not opened again. */
    private final Set<String> refused = new HashSet<>();
    private ClassifierPool pool;
    private StreamMetrics metrics;
    private Thread thread;
    private volatile boolean running = true;
    /** When the control record naming the version being switched to was written, or -1. */
    private volatile long switchRequestedAt = -1;
    private volatile String switchingTo;

    /** Reads the topic to its end; {@link #initialModel} then says what to serve first. */
    public ModelFollower(final Map<String, Object> consumerConfig, final Map<String, Object> producerConfig,
            final Path workDir, final String instance, final MeterRegistry registry) {
        this.reader = new ReleaseLog.Reader(consumerConfig);
        this.producerConfig = producerConfig;
        this.workDir = workDir;
        this.instance = instance;
        this.modelMetrics = new ModelMetrics(registry);
        reader.readToEnd(READ_TIMEOUT);
    }

    /** Whether the topic holds a release of {@code version}. */
    public boolean hasRelease(final String version) {
        return reader.state().release(version).isPresent();
    }

    /** Reads what was written to the topic since, such as the release this instance just published. */
    public void catchUp() {
        reader.readToEnd(READ_TIMEOUT);
    }

    /**
     * The model to start with: the live release on the topic, opened and checked ({@code local}
     * itself when that is the live version), or {@code local} when the topic names none or refuses it.
     */
    public Optional<DigitClassifier> initialModel(final DigitClassifier local) {
        final Optional<ModelControl> control = reader.state().control();
        if (control.isEmpty() || local != null && control.get().live().equals(local.modelVersion())) {
            return Optional.ofNullable(local);
        }
        final Optional<DigitClassifier> live = open(control.get().live());
        if (live.isPresent() && local != null) {
            log.info("{} names {} live: serving it rather than the local model {}", Topics.MODELS,
                    control.get().live(), local.modelVersion());
        }
        return live.or(() -> Optional.ofNullable(local));
    }

    /** Starts following: from now on, every new control record may switch {@code target}. */
    public void follow(final ClassifierPool target, final StreamMetrics streamMetrics) {
        this.pool = target;
        this.metrics = streamMetrics;
        target.onFirstBatch(version -> {
            final long requestedAt = switchRequestedAt;
            if (requestedAt > 0 && version.equals(switchingTo)) {
                modelMetrics.served(System.currentTimeMillis() - requestedAt);
                switchRequestedAt = -1;
            }
        });
        thread = new Thread(this::run, "model-follower");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        // A control record that arrived while the app started is acted on at once.
        boolean changed = true;
        while (running) {
            try {
                if (changed) {
                    reconcile();
                }
                changed = reader.poll(POLL);
            } catch (final WakeupException e) {
                return; // close()
            } catch (final RuntimeException e) {
                if (!running) {
                    return;
                }
                // The cluster away or refusing for a while: the app keeps serving, and tries again.
                log.warn("Cannot follow {} for now ({}); still serving {}", Topics.MODELS, e.toString(),
                        pool.modelVersion());
                changed = true;
                try {
                    Thread.sleep(RETRY_AFTER.toMillis());
                } catch (final InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /**
     * Serves the live and shadow versions the control record names, unless it serves them already.
     * A live release that is refused leaves the running model serving; a refused shadow, none.
     */
    private void reconcile() {
        final ModelControl control = reader.state().control().orElse(null);
        if (control == null) {
            return;
        }
        final long requestedAt = reader.state().controlAt();
        final String from = pool.modelVersion();
        DigitClassifier live = pool.live();
        if (!control.live().equals(from)) {
            live = control.live().equals(pool.shadowVersion()) ? pool.shadow()
                    : open(control.live()).orElse(live);
        }
        DigitClassifier shadow = pool.shadow();
        if (!Objects.equals(control.shadow(), pool.shadowVersion())) {
            shadow = control.shadow() == null ? null
                    : control.shadow().equals(from) ? pool.live() : open(control.shadow()).orElse(null);
        }
        if (shadow != null && shadow.modelVersion().equals(live.modelVersion())) {
            shadow = null;
        }
        if (live == pool.live() && shadow == pool.shadow()) {
            return;
        }
        if (live != pool.live()) {
            switchingTo = live.modelVersion();
            switchRequestedAt = requestedAt;
        }
        pool.serve(live, shadow);
        metrics.modelVersion(live.modelVersion());
        if (!live.modelVersion().equals(from)) {
            modelMetrics.switched();
            log.info("Switched from model {} to {}", from, live.modelVersion());
        }
    }

    /** Opens and checks a release from the topic; a refusal is logged, counted and recorded there. */
    private Optional<DigitClassifier> open(final String version) {
        final Optional<ReleaseLog.Release> release = reader.state().release(version);
        if (release.isEmpty()) {
            refuse(version, -1, ModelRelease.NOT_A_RELEASE, "the control record names " + version
                    + " but no release of it is on the topic; publish it with 'model publish'");
            return Optional.empty();
        }
        final String attempt = version + "@" + release.get().offset();
        if (refused.contains(attempt)) {
            return Optional.empty();
        }
        try {
            final byte[] bytes = reader.fetch(release.get(), READ_TIMEOUT);
            return Optional.of(ModelRelease.open(version, bytes, workDir).classifier());
        } catch (final ModelArtifactException e) {
            refused.add(attempt);
            refuse(version, release.get().offset(), e.reason(), e.getMessage());
        } catch (final RuntimeException e) {
            refused.add(attempt);
            refuse(version, release.get().offset(), "unreadable", e.toString());
        }
        return Optional.empty();
    }

    private void refuse(final String version, final long offset, final String reason, final String message) {
        log.error("Refused model release {} ({}): {}; still serving {}", version, reason, message,
                pool == null ? "the local model" : pool.modelVersion());
        modelMetrics.refused(reason);
        try (ReleaseLog.Writer writer = new ReleaseLog.Writer(producerConfig)) {
            writer.status(new ModelStatus(version, ModelStatus.REFUSED, reason, clip(message), instance,
                    System.currentTimeMillis()));
        } catch (final RuntimeException e) {
            log.warn("Could not record the refusal of {} on the topic: {}", version, e.getMessage());
        }
    }

    private static String clip(final String message) {
        return message == null || message.length() <= 4000 ? message : message.substring(0, 4000);
    }

    /** The offline test accuracy a published version's metadata gives, if any. */
    public Optional<Double> testAccuracy(final String version) {
        return reader.state().release(version).map(ReleaseLog.Release::metadata)
                .filter(metadata -> metadata.testMetrics() != null)
                .map(metadata -> metadata.testMetrics().get("accuracy"));
    }

    /** The newest control record, for the dashboard and /api/summary. */
    public Optional<ModelControl> control() {
        return reader.state().control();
    }

    @Override
    public void close() {
        running = false;
        reader.wakeup();
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        reader.close();
    }
}
