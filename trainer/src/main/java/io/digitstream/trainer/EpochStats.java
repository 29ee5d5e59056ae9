package io.digitstream.trainer;

/**
 * One epoch of training.
 *
 * @param epoch              1-based
 * @param trainLoss          mean minibatch loss while training (dropout on)
 * @param trainAccuracy      accuracy on a fixed sample of the training set after the epoch
 * @param validationLoss     mean cross-entropy on the held-out set
 * @param validationAccuracy accuracy on the held-out set
 * @param learningRate       the learning rate used during the epoch
 * @param seconds            wall time of the epoch's gradient steps
 * @param imagesPerSecond    training throughput during the epoch
 */
public record EpochStats(
        int epoch,
        double trainLoss,
        double trainAccuracy,
        double validationLoss,
        double validationAccuracy,
        double learningRate,
        double seconds,
        double imagesPerSecond) {
}
