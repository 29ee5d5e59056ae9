package io.digitstream.model;

import java.time.Instant;
import java.util.Map;

/**
 * What a model artifact says about itself, stored as {@code metadata.json} beside {@code model.zip}.
 *
 * @param version         the artifact's version, also the name of its directory
 * @param createdAt       when training finished
 * @param modelFile       file name of the DL4J model inside the artifact directory
 * @param modelSha256     SHA-256 of that file, checked on every load
 * @param datasetSha256   SHA-256 of each MNIST file the model was trained and tested on
 * @param hyperparameters the training options, by name
 * @param epochsRun       epochs actually trained (early stopping may end before the maximum)
 * @param bestEpoch       the epoch whose weights the artifact holds (1-based)
 * @param testMetrics     headline test-set figures: accuracy, macroF1, weightedF1, loss
 */
public record ModelMetadata(
        String version,
        Instant createdAt,
        String modelFile,
        String modelSha256,
        Map<String, String> datasetSha256,
        Map<String, Object> hyperparameters,
        int epochsRun,
        int bestEpoch,
        Map<String, Double> testMetrics) {
}
