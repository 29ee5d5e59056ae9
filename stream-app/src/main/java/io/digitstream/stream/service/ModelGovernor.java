package io.digitstream.stream.service;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.releases.ModelControls;
import io.digitstream.releases.Releases;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.ModelControl;

/**
 * Changes models by itself when its {@link ModelPolicy} says so, from the accuracy rows read back
 * committed from digits.accuracy: promotes the shadow model (or drops it) once one window holds
 * enough of its labeled images, comparing it with the live model on the same window; rolls back a
 * newly live model whose accuracy in a window after its switch falls below the floor or too far
 * below its own offline test accuracy. Each decision is a control record with its reason; every
 * instance may reach the same one, and the second finds it made.
 */
final class ModelGovernor {

    private static final Logger log = LoggerFactory.getLogger(ModelGovernor.class);
    /** How long after a shadow's control record its windows count: every instance serves it by then. */
    static final Duration SWITCH_MARGIN = Duration.ofSeconds(15);

    private final ModelPolicy policy;
    private final ModelFollower follower;
    private final Releases releases;
    /** The newest all-classes row of each window, per model version. */
    private final Map<String, Map<Long, ClassAccuracy>> windows = new HashMap<>();
    private final ExecutorService decisions = Executors.newSingleThreadExecutor(task -> {
        final Thread thread = new Thread(task, "model-governor");
        thread.setDaemon(true);
        return thread;
    });
    /** The control record a decision was last made on, so each is acted on once. */
    private ModelControl decidedOn;

    ModelGovernor(final ModelPolicy policy, final ModelFollower follower, final Releases releases) {
        this.policy = policy;
        this.follower = follower;
        this.releases = releases;
    }

    /** Takes one accuracy row (on the dashboard feed's thread). */
    synchronized void onAccuracy(final ClassAccuracy row) {
        if (!ClassAccuracy.ALL_CLASSES.equals(row.trueClass()) || row.modelVersion() == null
                || !policy.autoPromote() && !policy.autoRollback()) {
            return;
        }
        windows.computeIfAbsent(row.modelVersion(), v -> new HashMap<>()).put(row.windowStart(), row);
        final ModelControl control = follower.control().orElse(null);
        if (control == null || control.equals(decidedOn)) {
            return;
        }
        if (policy.autoPromote() && control.shadow() != null) {
            promoteOrDrop(control, row);
        }
        if (policy.autoRollback() && control.previous() != null && control.live().equals(row.modelVersion())) {
            rollBackIfWorse(control, row);
        }
    }

    /** Compares the shadow with the live model on the window of {@code row}, once the shadow has enough images. */
    private void promoteOrDrop(final ModelControl control, final ClassAccuracy row) {
        // Only a window begun after every instance serves the shadow holds the same images for both
        // models: the instances switch a moment (about a second) after the control record.
        final long shadowSince = since(control, control.shadow(), ModelControls.SHADOW);
        if (shadowSince == Long.MAX_VALUE || row.windowStart() < shadowSince + SWITCH_MARGIN.toMillis()) {
            return;
        }
        final ClassAccuracy shadow = windows.getOrDefault(control.shadow(), Map.of()).get(row.windowStart());
        final ClassAccuracy live = windows.getOrDefault(control.live(), Map.of()).get(row.windowStart());
        if (shadow == null || live == null || shadow.total() < policy.promoteMinImages()
                || live.total() < policy.promoteMinImages()) {
            return;
        }
        final String figures = String.format(Locale.ROOT, "%s %.2f%% on %d labeled images, live %s %.2f%%",
                control.shadow(), 100 * shadow.accuracy(), shadow.total(), control.live(), 100 * live.accuracy());
        if (shadow.accuracy() >= live.accuracy() - policy.promoteMaxDrop()) {
            decide(control, current -> ModelControls.promote(current, control.shadow(),
                    "automatic: " + figures, System.currentTimeMillis()));
        } else {
            decide(control, current -> ModelControls.dropShadow(current, String.format(Locale.ROOT,
                    "automatic: %s, more than %.2f points below", figures, 100 * policy.promoteMaxDrop()),
                    System.currentTimeMillis()));
        }
    }

    /** Rolls back when a window that began after the live model went live shows it worse than allowed. */
    private void rollBackIfWorse(final ModelControl control, final ClassAccuracy row) {
        final long liveSince = since(control, control.live(), null);
        if (row.windowStart() < liveSince || row.total() < policy.rollbackMinImages()) {
            return;
        }
        final Optional<Double> tested = follower.testAccuracy(control.live());
        String why = null;
        if (row.accuracy() < policy.rollbackMinAccuracy()) {
            why = String.format(Locale.ROOT, "below the floor of %.2f%%", 100 * policy.rollbackMinAccuracy());
        } else if (tested.isPresent() && row.accuracy() < tested.get() - policy.rollbackMaxDrop()) {
            why = String.format(Locale.ROOT, "more than %.2f points below its test accuracy of %.2f%%",
                    100 * policy.rollbackMaxDrop(), 100 * tested.get());
        }
        if (why != null) {
            final String reason = String.format(Locale.ROOT, "automatic: %s at %.2f%% on %d labeled images, %s",
                    control.live(), 100 * row.accuracy(), row.total(), why);
            decide(control, current -> ModelControls.rollback(current, reason, System.currentTimeMillis()));
        }
    }

    /**
     * When {@code version} last became live ({@code action} null) or the shadow ({@code action}
     * shadow), by the control record's history; never, when it does not say.
     */
    private static long since(final ModelControl control, final String version, final String action) {
        return control.history().stream()
                .filter(change -> change.version().equals(version))
                .filter(change -> action == null ? !change.action().equals(ModelControls.SHADOW)
                        && !change.action().equals(ModelControls.DROP_SHADOW) : change.action().equals(action))
                .mapToLong(ModelControl.Change::at).max().orElse(Long.MAX_VALUE);
    }

    private void decide(final ModelControl control, final UnaryOperator<ModelControl> change) {
        decidedOn = control;
        decisions.execute(() -> {
            try {
                final ModelControl next = releases.change(current -> {
                    if (!control.equals(current)) {
                        throw new IllegalStateException("the control record changed meanwhile");
                    }
                    return change.apply(current);
                });
                log.info("Model change: {} {} ({})", next.history().get(next.history().size() - 1).action(),
                        next.history().get(next.history().size() - 1).version(),
                        next.history().get(next.history().size() - 1).reason());
            } catch (final RuntimeException e) {
                log.info("No automatic model change: {}", e.getMessage());
                // The next accuracy row may decide again, should the control record be unchanged.
                synchronized (this) {
                    if (decidedOn == control) {
                        decidedOn = null;
                    }
                }
            }
        });
    }

    void close() {
        decisions.shutdownNow();
    }
}
