package io.digitstream.stream.topology;

import io.digitstream.schemas.Prediction;

/**
 * One image's predictions: the live model's, and the shadow model's when one runs (else null).
 * Passed between the classify stage and its consumers inside the topology only.
 *
 * @param imagePartition the digits.images partition the image was read from: its predictions are
 *                       written to the same partition number, so each predictions partition holds one
 *                       task's predictions in the order it made them
 */
public record Classified(Prediction live, Prediction shadow, int imagePartition) {
}
