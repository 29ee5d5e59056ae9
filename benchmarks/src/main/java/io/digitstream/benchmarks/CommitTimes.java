package io.digitstream.benchmarks;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import io.digitstream.stream.service.StreamService;

/**
 * The stream threads' commits and what each waited on, from Kafka Streams' and its producers'
 * metrics: under exactly-once a commit flushes the producer, adds the input offsets to the
 * transaction and commits it, and its stream thread reads nothing meanwhile.
 */
record CommitTimes(long atNanos, double commits, double flushNanos, double offsetsNanos,
        double commitNanos) {

    static CommitTimes of(final StreamService service) {
        final Map<String, Double> sums = new HashMap<>();
        service.streamsMetrics().forEach((name, metric) -> {
            final boolean counted = name.group().equals("stream-thread-metrics") && name.name().equals("commit-total")
                    || name.group().equals("producer-metrics") && name.name().endsWith("-time-ns-total");
            if (counted && metric.metricValue() instanceof Number value) {
                sums.merge(name.name(), value.doubleValue(), Double::sum);
            }
        });
        return new CommitTimes(System.nanoTime(), sums.getOrDefault("commit-total", 0.0),
                sums.getOrDefault("flush-time-ns-total", 0.0),
                sums.getOrDefault("txn-send-offsets-time-ns-total", 0.0),
                sums.getOrDefault("txn-commit-time-ns-total", 0.0));
    }

    String since(final CommitTimes before) {
        final double commitsDone = commits - before.commits;
        final double perCommit = 1e6 * Math.max(1, commitsDone);
        return String.format(Locale.ROOT, "Commits: %.0f per second; per commit, its stream thread waited %.1f ms"
                + " on the producer's flush, %.1f ms adding offsets, %.1f ms committing the transaction",
                commitsDone / ((atNanos - before.atNanos) / 1e9), (flushNanos - before.flushNanos) / perCommit,
                (offsetsNanos - before.offsetsNanos) / perCommit, (commitNanos - before.commitNanos) / perCommit);
    }
}
