package io.digitstream.benchmarks;

/**
 * One run's figures. {@code imagesPerSecond} is the sustained rate, over the arrivals from a
 * sixth of the round on (the pipeline full) until, at full load, the load generator has sent its
 * last image (from then on the broker takes in nothing and the app has it easier); at half load
 * until nine tenths. {@code wholeRound} is all the images over the time from the first sent to
 * the last prediction received, the pipeline's fill and drain included.
 */
record Run(double imagesPerSecond, double wholeRound, double p50, double p99) {
}
