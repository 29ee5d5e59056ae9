package io.digitstream.trainer;

/**
 * How to train. {@link #seedDefaults()} gives the seed Keras run: Adam 1e-3, batch 128, up to 8
 * epochs, 10% of the training set held out, and its three callbacks.
 *
 * @param epochs                 the most epochs to train
 * @param batchSize              images per gradient step
 * @param learningRate           Adam's initial learning rate
 * @param seed                   seeds weights, dropout, shuffling and augmentation
 * @param validationFraction     the share of the training set, taken from its end, held out
 * @param earlyStoppingPatience  epochs without a better validation accuracy before stopping; 0 turns it off
 * @param lrPlateauPatience      epochs without a lower validation loss before the learning rate is cut;
 *                               0 turns it off
 * @param lrPlateauFactor        what the learning rate is multiplied by on a plateau
 * @param minLearningRate        the floor for those cuts
 * @param keepBest               keep the weights of the epoch with the best validation accuracy
 * @param augment                random shifts and rotations of training images
 * @param trainLimit             use only the first this-many training images (0: all)
 */
public record TrainingOptions(
        int epochs,
        int batchSize,
        double learningRate,
        long seed,
        double validationFraction,
        int earlyStoppingPatience,
        int lrPlateauPatience,
        double lrPlateauFactor,
        double minLearningRate,
        boolean keepBest,
        boolean augment,
        int trainLimit) {

    public static final int DEFAULT_EPOCHS = 8;
    public static final int DEFAULT_BATCH_SIZE = 128;
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final long DEFAULT_SEED = 42;
    public static final double DEFAULT_VALIDATION_FRACTION = 0.1;
    public static final int DEFAULT_EARLY_STOPPING_PATIENCE = 3;
    public static final int DEFAULT_LR_PLATEAU_PATIENCE = 2;
    public static final double DEFAULT_LR_PLATEAU_FACTOR = 0.5;
    public static final double DEFAULT_MIN_LEARNING_RATE = 1e-5;

    public TrainingOptions {
        require(epochs >= 1, "epochs must be at least 1, got " + epochs);
        require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
        require(learningRate > 0, "learning rate must be positive, got " + learningRate);
        require(validationFraction > 0 && validationFraction < 1,
                "validation fraction must be between 0 and 1 (exclusive), got " + validationFraction);
        require(earlyStoppingPatience >= 0, "early-stopping patience must be 0 (off) or more");
        require(lrPlateauPatience >= 0, "learning-rate plateau patience must be 0 (off) or more");
        require(lrPlateauFactor > 0 && lrPlateauFactor < 1, "learning-rate factor must be between 0 and 1");
        require(minLearningRate >= 0, "minimum learning rate must not be negative");
        require(trainLimit >= 0, "train limit must be 0 (all) or more");
    }

    public static TrainingOptions seedDefaults() {
        return new TrainingOptions(DEFAULT_EPOCHS, DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE, DEFAULT_SEED,
                DEFAULT_VALIDATION_FRACTION, DEFAULT_EARLY_STOPPING_PATIENCE, DEFAULT_LR_PLATEAU_PATIENCE,
                DEFAULT_LR_PLATEAU_FACTOR, DEFAULT_MIN_LEARNING_RATE, true, false, 0);
    }

    public TrainingOptions withEpochs(final int value) {
        return new TrainingOptions(value, batchSize, learningRate, seed, validationFraction, earlyStoppingPatience,
                lrPlateauPatience, lrPlateauFactor, minLearningRate, keepBest, augment, trainLimit);
    }

    public TrainingOptions withTrainLimit(final int value) {
        return new TrainingOptions(epochs, batchSize, learningRate, seed, validationFraction, earlyStoppingPatience,
                lrPlateauPatience, lrPlateauFactor, minLearningRate, keepBest, augment, value);
    }

    private static void require(final boolean condition, final String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
