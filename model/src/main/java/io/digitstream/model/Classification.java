package io.digitstream.model;

/**
 * The classifier's answer for one image, in the network's own float precision.
 *
 * @param predicted     the most probable digit
 * @param confidence    its probability
 * @param probabilities the probability of each digit 0-9
 */
public record Classification(int predicted, float confidence, float[] probabilities) {
}
