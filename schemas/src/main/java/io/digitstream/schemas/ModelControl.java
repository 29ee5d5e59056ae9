package io.digitstream.schemas;

import java.util.ArrayList;
import java.util.List;

/**
 * Which published model serves and which, if any, runs in shadow (schemas/json/model-control.schema.json).
 * The record under key {@value Topics#MODEL_CONTROL_KEY} of {@value Topics#MODELS}; every instance
 * follows the newest one.
 *
 * @param live     the version serving predictions
 * @param shadow   a candidate classifying the same images, or null
 * @param previous the version a rollback returns to, or null
 * @param history  the latest changes, oldest first, at most {@value #HISTORY}
 */
public record ModelControl(String live, String shadow, String previous, List<Change> history) {

    /** How many changes the control record remembers. */
    public static final int HISTORY = 50;

    /**
     * One change of the live or shadow model.
     *
     * @param action  publish, shadow, promote, rollback, drop-shadow
     * @param version the version the action is about
     * @param reason  who or what decided, in words
     * @param at      epoch milliseconds
     */
    public record Change(String action, String version, String reason, long at) {
    }

    public ModelControl {
        history = history == null ? List.of() : List.copyOf(history);
    }

    /** This control with {@code change} appended to its history, keeping the newest {@value #HISTORY}. */
    public ModelControl then(final String newLive, final String newShadow, final String newPrevious,
            final Change change) {
        final List<Change> changes = new ArrayList<>(history);
        changes.add(change);
        return new ModelControl(newLive, newShadow, newPrevious,
                changes.subList(Math.max(0, changes.size() - HISTORY), changes.size()));
    }
}
