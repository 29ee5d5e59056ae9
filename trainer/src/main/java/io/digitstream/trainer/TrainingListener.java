package io.digitstream.trainer;

/** Follows a training run, for progress bars and logs. Every method does nothing by default. */
public interface TrainingListener {

    /** A listener that ignores everything. */
    TrainingListener NONE = new TrainingListener() {
    };

    default void epochStarted(final int epoch, final int maxEpochs, final int batches) {
    }

    default void batchFinished(final int batch, final double loss) {
    }

    /** {@code note} says what the callbacks did: a new best, a learning-rate cut, a stop. */
    default void epochFinished(final EpochStats stats, final String note) {
    }
}
