package io.digitstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The model's answer for one image (schemas/json/prediction.schema.json).
 *
 * @param id             the image's id
 * @param predicted      the most probable digit
 * @param confidence     its probability
 * @param probabilities  the probability of each digit 0-9, in the network's float precision
 * @param modelVersion   the artifact that classified it
 * @param label          the true digit, when the image carried it
 * @param correct        {@code predicted == label}, when the label is known
 * @param eventTime      the image's event time, epoch milliseconds
 * @param processingTime when the prediction was made, epoch milliseconds
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Prediction(String id, int predicted, float confidence, float[] probabilities, String modelVersion,
        Integer label, Boolean correct, long eventTime, long processingTime) {
}
