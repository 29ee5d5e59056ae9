package io.digitstream.schemas;

import java.util.List;

/** Every topic name, once. */
public final class Topics {

    /** {@link DigitImage} events to classify, keyed by image id. */
    public static final String IMAGES = "digits.images";
    /** {@link DigitLabel} ground truth arriving after its image, keyed by image id. */
    public static final String LABELS = "digits.labels";
    /** {@link Prediction} per image, keyed by image id. */
    public static final String PREDICTIONS = "digits.predictions";
    /** {@link ClassAccuracy} per true class and window, keyed by true class. */
    public static final String ACCURACY = "digits.accuracy";
    /** Records that could not be processed, bytes unchanged; see schemas/json/dead-letter.md. */
    public static final String DEAD_LETTERS = "digits.dlq";

    public static final List<String> ALL = List.of(IMAGES, LABELS, PREDICTIONS, ACCURACY, DEAD_LETTERS);

    private Topics() {
    }
}
