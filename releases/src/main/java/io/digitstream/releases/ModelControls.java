package io.digitstream.releases;

import java.util.Set;

import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.ModelControl.Change;

/**
 * The changes a control record can go through, as pure functions of the current one: what the CLI
 * commands and the app's automatic promotion and rollback write.
 */
public final class ModelControls {

    public static final String PUBLISH = "publish";
    public static final String SHADOW = "shadow";
    public static final String PROMOTE = "promote";
    public static final String ROLLBACK = "rollback";
    public static final String DROP_SHADOW = "drop-shadow";
    /** The actions that change which version is live. */
    private static final Set<String> LIVE_CHANGES = Set.of(PUBLISH, PROMOTE, ROLLBACK);

    private ModelControls() {
    }

    /** {@code version} goes live; the live one becomes the version a rollback returns to. */
    public static ModelControl publish(final ModelControl current, final String version, final String reason,
            final long now) {
        final Change change = new Change(PUBLISH, version, reason, now);
        if (current == null) {
            return new ModelControl(version, null, null, java.util.List.of(change));
        }
        final String shadow = version.equals(current.shadow()) ? null : current.shadow();
        final String previous = version.equals(current.live()) ? current.previous() : current.live();
        return current.then(version, shadow, previous, change);
    }

    /** {@code version} runs in shadow beside the live one; the first release ever goes live instead. */
    public static ModelControl shadow(final ModelControl current, final String version, final String reason,
            final long now) {
        if (current == null) {
            return publish(null, version, reason + " (first release: live, not shadow)", now);
        }
        if (version.equals(current.live())) {
            throw new IllegalArgumentException(version + " is live already; a shadow must be another version");
        }
        return current.then(current.live(), version, current.previous(), new Change(SHADOW, version, reason, now));
    }

    /** The shadow, or the given version, goes live; the live one becomes the version a rollback returns to. */
    public static ModelControl promote(final ModelControl current, final String version, final String reason,
            final long now) {
        final String target = version != null ? version : current == null ? null : current.shadow();
        if (target == null) {
            throw new IllegalArgumentException("there is no shadow model to promote; publish one with --shadow,"
                    + " or name the version to promote");
        }
        if (current != null && target.equals(current.live())) {
            throw new IllegalArgumentException(target + " is live already");
        }
        final String shadow = current == null || target.equals(current.shadow()) ? null : current.shadow();
        final String previous = current == null ? null : current.live();
        final Change change = new Change(PROMOTE, target, reason, now);
        return current == null ? new ModelControl(target, null, null, java.util.List.of(change))
                : current.then(target, shadow, previous, change);
    }

    /** The version live before the current one comes back. */
    public static ModelControl rollback(final ModelControl current, final String reason, final long now) {
        if (current == null || current.previous() == null) {
            throw new IllegalArgumentException("there is no earlier live model to roll back to");
        }
        final String target = current.previous();
        final String before = liveBefore(current, target);
        final String shadow = target.equals(current.shadow()) ? null : current.shadow();
        return current.then(target, shadow, before == null || before.equals(target) ? null : before,
                new Change(ROLLBACK, target, reason, now));
    }

    /** The shadow model stops. */
    public static ModelControl dropShadow(final ModelControl current, final String reason, final long now) {
        if (current == null || current.shadow() == null) {
            throw new IllegalArgumentException("there is no shadow model to drop");
        }
        return current.then(current.live(), null, current.previous(),
                new Change(DROP_SHADOW, current.shadow(), reason, now));
    }

    /** The version that was live just before {@code version} last went live, from the history. */
    static String liveBefore(final ModelControl control, final String version) {
        String live = null;
        String before = null;
        for (final Change change : control.history()) {
            if (LIVE_CHANGES.contains(change.action())) {
                if (change.version().equals(version)) {
                    before = live;
                }
                live = change.version();
            }
        }
        return before;
    }
}
