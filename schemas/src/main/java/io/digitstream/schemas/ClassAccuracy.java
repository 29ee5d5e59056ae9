package io.digitstream.schemas;

/**
 * Rolling accuracy of one model version on one true class, or on all ({@link #ALL_CLASSES}), over one window
 * (schemas/json/class-accuracy.schema.json).
 *
 * @param trueClass       "0".."9" or "all"
 * @param windowStart     epoch milliseconds, inclusive
 * @param windowEnd       epoch milliseconds, exclusive
 * @param total           labeled predictions in the window
 * @param correct         of those, the right ones
 * @param accuracy        correct / total
 * @param predictedCounts how often each digit was predicted: the confusion-matrix row
 * @param modelVersion    the model version whose predictions this row counts
 */
public record ClassAccuracy(String trueClass, long windowStart, long windowEnd, long total, long correct,
        double accuracy, long[] predictedCounts, String modelVersion) {

    public static final String ALL_CLASSES = "all";
}
