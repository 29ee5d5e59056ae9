package io.digitstream.stream.topology;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.Prediction;

/**
 * What meets in the label join, keyed by image id: an image's predictions (the live model's, with the
 * label the image carried if any, and the shadow's when one ran) or a late label, never both. It
 * crosses the app's own repartition topic, so it holds only what the join and the accuracy counts
 * need, not the probabilities.
 *
 * @param label           the true digit: a late label's, or the one the image carried (else null)
 * @param predicted       the live model's digit, or null for a late label
 * @param modelVersion    the live model, or null for a late label
 * @param eventTime       the image's event time, epoch milliseconds (0 for a late label)
 * @param shadowPredicted the shadow model's digit, or null when none ran
 * @param shadowVersion   the shadow model, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JoinInput(Integer label, Integer predicted, String modelVersion, long eventTime,
        Integer shadowPredicted, String shadowVersion) {

    public static JoinInput of(final Classified classified) {
        final Prediction live = classified.live();
        final Prediction shadow = classified.shadow();
        return new JoinInput(live.label(), live.predicted(), live.modelVersion(), live.eventTime(),
                shadow == null ? null : shadow.predicted(), shadow == null ? null : shadow.modelVersion());
    }

    public static JoinInput of(final DigitLabel label) {
        return new JoinInput(label.label(), null, null, 0, null, null);
    }

    /** Whether this is an image's predictions rather than a late label. */
    @JsonIgnore
    public boolean isPrediction() {
        return predicted != null;
    }
}
