package io.digitstream.benchmarks;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What went wrong between the clients and the broker without failing anything: error answers
 * the embedded broker gave, by request and error, and records its producers sent again. Both
 * come from JMX, so the load generator's producer counts with the app's. A round that stalls
 * with these at zero waited on something else than a refused request and its backoff.
 */
record KafkaTrouble(Map<String, Long> errors, long retriedRecords) {

    static KafkaTrouble now() {
        final Map<String, Long> errors = new TreeMap<>();
        final AtomicLong retried = new AtomicLong();
        StreamBenchmark.eachMBean("kafka.network:type=RequestMetrics,name=ErrorsPerSec,*", "Count", (name, count) -> {
            if (!"NONE".equals(name.getKeyProperty("error"))) {
                errors.merge(name.getKeyProperty("request") + " " + name.getKeyProperty("error"),
                        count.longValue(), Long::sum);
            }
        });
        StreamBenchmark.eachMBean("kafka.producer:type=producer-metrics,*", "record-retry-total",
                (name, count) -> retried.addAndGet(count.longValue()));
        return new KafkaTrouble(errors, retried.get());
    }

    /** What happened since {@code before}, in one line, or nothing when nothing did. */
    java.util.Optional<String> since(final KafkaTrouble before) {
        final StringBuilder line = new StringBuilder();
        errors.forEach((error, count) -> {
            final long more = count - before.errors.getOrDefault(error, 0L);
            if (more > 0) {
                line.append(line.isEmpty() ? "" : ", ").append(error).append(' ').append(more);
            }
        });
        final long retries = retriedRecords - before.retriedRecords;
        if (line.isEmpty() && retries == 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(String.format(Locale.ROOT, "broker error answers: %s; records sent again: %,d",
                line.isEmpty() ? "none" : line, retries));
    }
}
