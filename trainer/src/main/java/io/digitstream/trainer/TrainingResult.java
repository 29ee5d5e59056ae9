package io.digitstream.trainer;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a training run produced.
 *
 * @param network   the trained network, holding the best epoch's weights when keepBest is on
 * @param history   one entry per epoch run
 * @param bestEpoch the epoch with the best validation accuracy (1-based)
 * @param stoppedEarly whether early stopping ended the run before the epoch limit
 */
public record TrainingResult(MultiLayerNetwork network, List<EpochStats> history, int bestEpoch,
        boolean stoppedEarly) {

    public int epochsRun() {
        return history.size();
    }

    public double meanEpochSeconds() {
        return history.stream().mapToDouble(EpochStats::seconds).average().orElse(0);
    }

    public double meanImagesPerSecond() {
        return history.stream().mapToDouble(EpochStats::imagesPerSecond).average().orElse(0);
    }
}
