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
    /** {@link Prediction} per image by the shadow model, when one runs, keyed by image id. */
    public static final String PREDICTIONS_SHADOW = "digits.predictions.shadow";
    /** {@link ClassAccuracy} per true class, model version and window, keyed by true class. */
    public static final String ACCURACY = "digits.accuracy";
    /** Records that could not be processed, bytes unchanged; see schemas/json/dead-letter.md. */
    public static final String DEAD_LETTERS = "digits.dlq";

    /**
     * Model releases, compacted, one partition: a release's binary form (schemas/json/model-release.md)
     * under its version, the {@link ModelControl} under {@value #MODEL_CONTROL_KEY}, and a {@link
     * ModelStatus} per version under {@value #MODEL_STATUS_PREFIX}{@code <version>}.
     */
    public static final String MODELS = "digits.models";
    public static final String MODEL_CONTROL_KEY = "@control";
    public static final String MODEL_STATUS_PREFIX = "@status/";

    /** The topics of the classification stream, created alike; {@link #MODELS} has settings of its own. */
    public static final List<String> ALL = List.of(IMAGES, LABELS, PREDICTIONS, ACCURACY, DEAD_LETTERS,
            PREDICTIONS_SHADOW);

    private Topics() {
    }
}
