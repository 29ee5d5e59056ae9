package io.digitstream.stream.topology;

/**
 * A prediction whose true digit is known, from the image itself or a late label.
 *
 * @param id           image id
 * @param label        the true digit
 * @param predicted    the predicted digit
 * @param modelVersion the model that predicted it
 */
public record LabeledPrediction(String id, int label, int predicted, String modelVersion) {

    public boolean correct() {
        return label == predicted;
    }
}
