package io.digitstream.stream.topology;

import io.digitstream.schemas.Prediction;

/**
 * One image's predictions: the live model's, and the shadow model's when one runs (else null).
 * Passed between the classify stage and its consumers inside the topology only.
 */
public record Classified(Prediction live, Prediction shadow) {
}
