package io.digitstream.stream.service;

/**
 * When the app changes models by itself, from the labeled accuracy it reads back (all off by
 * default: the control record changes only by command).
 *
 * @param autoPromote         promote or drop the shadow model once it has enough labeled images
 * @param promoteMinImages    labeled images the shadow needs in one accuracy window first
 * @param promoteMaxDrop      how far below the live model's accuracy (same window) the shadow may be
 *                            and still be promoted, as a fraction (0.002 = 0.2 points)
 * @param autoRollback        roll back a newly live model whose accuracy falls too low
 * @param rollbackMinImages   labeled images of the new model in one window before it is judged
 * @param rollbackMinAccuracy the floor (0 = none)
 * @param rollbackMaxDrop     how far below its own offline test accuracy it may fall
 */
public record ModelPolicy(boolean autoPromote, long promoteMinImages, double promoteMaxDrop, boolean autoRollback,
        long rollbackMinImages, double rollbackMinAccuracy, double rollbackMaxDrop) {

    public ModelPolicy {
        for (final double fraction : new double[] {promoteMaxDrop, rollbackMinAccuracy, rollbackMaxDrop}) {
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new IllegalArgumentException("model policy fractions are between 0 and 1, got " + fraction);
            }
        }
    }
}
