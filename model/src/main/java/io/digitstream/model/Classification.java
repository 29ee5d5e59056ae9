package io.digitstream.model;

/**
 * The classifier's answer for one image.
 *
 * @param predicted     the most probable digit
 * @param confidence    its probability
 * @param probabilities the probability of each digit 0-9
 */
public record Classification(int predicted, double confidence, double[] probabilities) {
}
