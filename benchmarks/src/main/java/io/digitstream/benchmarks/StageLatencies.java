package io.digitstream.benchmarks;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;

import io.digitstream.stream.topology.StreamMetrics;

/**
 * The parts of the app's latency ({@code digits_latency_stage}, the forward passes'
 * {@code digits_inference_time} and the batches' {@code digits_inference_handover}) over a stretch
 * of the run: the percentiles of what the histograms counted since this was made, to their
 * bucket bounds, and the mean images per forward pass.
 */
final class StageLatencies {

    private final StreamMetrics metrics;
    private final Map<String, HistogramSnapshot> before = new TreeMap<>();
    private final HistogramSnapshot batchesBefore;

    StageLatencies(final StreamMetrics metrics) {
        this.metrics = metrics;
        timers().forEach((name, timer) -> before.put(name, timer.takeSnapshot()));
        batchesBefore = batchSizes().takeSnapshot();
    }

    /** The parts of the latency, the forward passes alone, and each batch's waits before and after its pass. */
    private Map<String, Timer> timers() {
        final Map<String, Timer> timers = new java.util.LinkedHashMap<>();
        metrics.registry().find("digits.latency.stage").timers()
                .forEach(timer -> timers.put(timer.getId().getTag("stage"), timer));
        timers.put("of which forward passes", metrics.registry().get("digits.inference.time").timer());
        metrics.registry().find("digits.inference.handover").timers().forEach(timer -> timers.put(
                "batches " + timer.getId().getTag("part"), timer));
        return timers;
    }

    private DistributionSummary batchSizes() {
        return metrics.registry().get("digits.inference.batch.size").summary();
    }

    void print(final String load) {
        final StringBuilder line = new StringBuilder("Latency in the app at " + load
                + " load, p50/p99 (to bucket bounds):");
        timers().forEach((name, timer) -> {
            final CountAtBucket[] now = timer.takeSnapshot().histogramCounts();
            final CountAtBucket[] then = before.get(name).histogramCounts();
            line.append(String.format(Locale.ROOT, " %s %.0f/%.0f ms;", name,
                    bound(now, then, 0.5), bound(now, then, 0.99)));
        });
        final HistogramSnapshot batches = batchSizes().takeSnapshot();
        line.append(String.format(Locale.ROOT, " %.1f images per forward pass",
                (batches.total() - batchesBefore.total()) / (batches.count() - batchesBefore.count())));
        System.out.println(line);
    }

    /** The smallest bucket bound under which at least {@code quantile} of the new values fall. */
    private static double bound(final CountAtBucket[] now, final CountAtBucket[] then, final double quantile) {
        final double total = now[now.length - 1].count() - then[then.length - 1].count();
        for (int i = 0; i < now.length; i++) {
            if (total > 0 && now[i].count() - then[i].count() >= quantile * total) {
                return now[i].bucket(TimeUnit.MILLISECONDS);
            }
        }
        return Double.NaN;
    }
}
