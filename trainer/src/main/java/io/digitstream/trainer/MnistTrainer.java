package io.digitstream.trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitImages;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;

/**
 * Trains the seed CNN with the seed's Keras callbacks done by hand, one epoch at a time:
 * EarlyStopping on validation accuracy, ReduceLROnPlateau on validation loss, and keeping the best
 * epoch's weights (ModelCheckpoint with save_best_only).
 */
public final class MnistTrainer {

    /** Training accuracy is measured on this many training images after each epoch. */
    static final int TRAIN_ACCURACY_SAMPLE = 6_000;

    private static final Logger log = LoggerFactory.getLogger(MnistTrainer.class);

    private final TrainingOptions options;
    private final TrainingListener listener;

    public MnistTrainer(final TrainingOptions options, final TrainingListener listener) {
        this.options = options;
        this.listener = listener;
    }

    /** Splits off the validation set from the end of {@code trainingSet}, as Keras' validation_split does. */
    public static MnistDataset[] split(final MnistDataset trainingSet, final double validationFraction) {
        final int validationCount = (int) Math.round(trainingSet.count() * validationFraction);
        final int trainCount = trainingSet.count() - validationCount;
        return new MnistDataset[] {trainingSet.slice(0, trainCount), trainingSet.slice(trainCount, trainingSet.count())};
    }

    public TrainingResult train(final MnistDataset trainingSet) {
        return train(trainingSet, null);
    }

    /**
     * Trains {@code initial} further (fine-tuning, at the options' learning rate), or a new seed
     * network when it is null.
     */
    public TrainingResult train(final MnistDataset trainingSet, final MultiLayerNetwork initial) {
        final MnistDataset[] parts = split(trainingSet.limit(options.trainLimit() == 0
                ? trainingSet.count() : options.trainLimit()), options.validationFraction());
        final MnistDataset train = parts[0];
        final MnistDataset validation = parts[1];
        log.info("Training on {} images, validating on {}", train.count(), validation.count());

        final MultiLayerNetwork network = initial != null ? initial
                : DigitNetwork.create(options.seed(), options.learningRate());
        if (initial != null) {
            network.setLearningRate(options.learningRate());
        }
        Nd4j.getRandom().setSeed(options.seed());
        final Random shuffle = new Random(options.seed());
        final Augmenter augmenter = options.augment() ? new Augmenter(options.seed()) : null;
        final DigitClassifier probe = new DigitClassifier(network, null);
        final MnistDataset trainSample = train.limit(TRAIN_ACCURACY_SAMPLE);

        final int[] order = new int[train.count()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        final int batches = (train.count() + options.batchSize() - 1) / options.batchSize();
        final byte[] batchPixels = new byte[options.batchSize() * DigitNetwork.PIXELS];
        final byte[] batchLabels = new byte[options.batchSize()];

        final List<EpochStats> history = new ArrayList<>();
        double learningRate = options.learningRate();
        double bestAccuracy = -1;
        double bestLoss = Double.MAX_VALUE;
        int bestEpoch = 0;
        INDArray bestParams = null;
        int epochsSinceBestAccuracy = 0;
        int epochsSinceBestLoss = 0;
        boolean stoppedEarly = false;

        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            shuffleInPlace(order, shuffle);
            listener.epochStarted(epoch, options.epochs(), batches);
            final long start = System.nanoTime();
            double lossSum = 0;
            for (int b = 0; b < batches; b++) {
                final int from = b * options.batchSize();
                final int count = Math.min(options.batchSize(), train.count() - from);
                for (int i = 0; i < count; i++) {
                    final int index = order[from + i];
                    System.arraycopy(train.pixels(), index * DigitNetwork.PIXELS, batchPixels, i * DigitNetwork.PIXELS,
                            DigitNetwork.PIXELS);
                    batchLabels[i] = train.labels()[index];
                }
                if (augmenter != null) {
                    augmenter.augment(batchPixels, count);
                }
                network.fit(new DataSet(DigitImages.toFeatures(batchPixels, 0, count),
                        Evaluator.oneHot(batchLabels, 0, count)));
                final double loss = network.score();
                lossSum += loss;
                listener.batchFinished(b + 1, loss);
            }
            final double seconds = (System.nanoTime() - start) / 1e9;

            final Evaluator.Result onValidation = Evaluator.evaluate(probe, validation);
            final double trainAccuracy = Evaluator.evaluate(probe, trainSample).accuracy();
            final EpochStats stats = new EpochStats(epoch, lossSum / batches, trainAccuracy, onValidation.loss(),
                    onValidation.accuracy(), learningRate, seconds, train.count() / seconds);
            history.add(stats);

            final List<String> notes = new ArrayList<>();
            if (onValidation.accuracy() > bestAccuracy) {
                bestAccuracy = onValidation.accuracy();
                bestEpoch = epoch;
                epochsSinceBestAccuracy = 0;
                if (options.keepBest()) {
                    bestParams = network.params().dup();
                }
                notes.add("best so far");
            } else {
                epochsSinceBestAccuracy++;
            }
            if (onValidation.loss() < bestLoss) {
                bestLoss = onValidation.loss();
                epochsSinceBestLoss = 0;
            } else if (options.lrPlateauPatience() > 0 && ++epochsSinceBestLoss >= options.lrPlateauPatience()) {
                final double reduced = Math.max(learningRate * options.lrPlateauFactor(), options.minLearningRate());
                if (reduced < learningRate) {
                    learningRate = reduced;
                    network.setLearningRate(learningRate);
                    notes.add(String.format("learning rate -> %.2g", learningRate));
                }
                epochsSinceBestLoss = 0;
            }
            if (options.earlyStoppingPatience() > 0 && epochsSinceBestAccuracy >= options.earlyStoppingPatience()
                    && epoch < options.epochs()) {
                stoppedEarly = true;
                notes.add("early stop: no better validation accuracy for " + epochsSinceBestAccuracy + " epochs");
            }
            listener.epochFinished(stats, String.join(", ", notes));
            if (stoppedEarly) {
                break;
            }
        }
        if (options.keepBest() && bestParams != null) {
            network.setParams(bestParams);
        }
        return new TrainingResult(network, List.copyOf(history), bestEpoch, stoppedEarly);
    }

    private static void shuffleInPlace(final int[] values, final Random random) {
        for (int i = values.length - 1; i > 0; i--) {
            final int j = random.nextInt(i + 1);
            final int swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
    }
}
