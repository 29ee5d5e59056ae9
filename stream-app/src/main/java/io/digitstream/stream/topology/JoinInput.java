package io.digitstream.stream.topology;

import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.Prediction;

/** What meets in the label join: a prediction or a late label, never both. */
public record JoinInput(Prediction prediction, DigitLabel label) {

    public static JoinInput of(final Prediction prediction) {
        return new JoinInput(prediction, null);
    }

    public static JoinInput of(final DigitLabel label) {
        return new JoinInput(null, label);
    }
}
