package io.digitstream.model.mnist;

import java.util.Map;

/**
 * The MNIST training and test sets as found.
 *
 * @param train          the 60,000 training images
 * @param test           the 10,000 test images
 * @param datasetSha256  SHA-256 of each IDX file, by file name
 * @param source         where the files came from
 */
public record MnistData(MnistDataset train, MnistDataset test, Map<String, String> datasetSha256, String source) {
}
