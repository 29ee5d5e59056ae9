package io.digitstream.trainer;

import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;

/** Runs a classifier over a labeled dataset in batches. */
public final class Evaluator {

    /** Large enough to keep both cores busy, small enough to bound activation memory. */
    public static final int BATCH_SIZE = 500;

    /** Probabilities below this are clamped when taking the log for the loss. */
    private static final double MIN_PROBABILITY = 1e-7;

    private Evaluator() {
    }

    /**
     * The evaluation of a classifier on a dataset.
     *
     * @param evaluation      DL4J's confusion matrix and per-class figures
     * @param loss            mean cross-entropy
     * @param predicted       the predicted digit of each image
     * @param imagesPerSecond inference throughput of the run
     */
    public record Result(Evaluation evaluation, double loss, int[] predicted, double imagesPerSecond) {

        public double accuracy() {
            return evaluation.accuracy();
        }
    }

    public static Result evaluate(final DigitClassifier classifier, final MnistDataset data) {
        final Evaluation evaluation = new Evaluation(DigitNetwork.CLASSES);
        final int[] predicted = new int[data.count()];
        double lossSum = 0;
        final long start = System.nanoTime();
        for (int from = 0; from < data.count(); from += BATCH_SIZE) {
            final int count = Math.min(BATCH_SIZE, data.count() - from);
            final INDArray probabilities = classifier.probabilities(data.pixels(), from, count);
            evaluation.eval(oneHot(data.labels(), from, count), probabilities);
            final INDArray best = probabilities.argMax(1);
            for (int i = 0; i < count; i++) {
                predicted[from + i] = best.getInt(i);
                final double p = probabilities.getDouble(i, data.label(from + i));
                lossSum -= Math.log(Math.max(p, MIN_PROBABILITY));
            }
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(evaluation, lossSum / data.count(), predicted, data.count() / seconds);
    }

    /** One-hot label rows for images {@code from}..{@code from + count}. */
    static INDArray oneHot(final byte[] digits, final int from, final int count) {
        final INDArray labels = Nd4j.zeros(DataType.FLOAT, count, DigitNetwork.CLASSES);
        for (int i = 0; i < count; i++) {
            labels.putScalar(i, digits[from + i], 1f);
        }
        return labels;
    }
}
