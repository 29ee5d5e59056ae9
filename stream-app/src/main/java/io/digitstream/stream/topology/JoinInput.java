package io.digitstream.stream.topology;

import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.Prediction;

/**
 * What meets in the label join: an image's predictions (the live model's, and the shadow's or null)
 * or a late label, never both.
 */
public record JoinInput(Prediction prediction, Prediction shadow, DigitLabel label) {

    public static JoinInput of(final Classified classified) {
        return new JoinInput(classified.live(), classified.shadow(), null);
    }

    public static JoinInput of(final DigitLabel label) {
        return new JoinInput(null, null, label);
    }
}
