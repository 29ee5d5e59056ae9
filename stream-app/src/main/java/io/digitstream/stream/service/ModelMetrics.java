package io.digitstream.stream.service;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The metrics of model changes, named {@code digits_model_*} in Prometheus. */
public final class ModelMetrics {

    private final MeterRegistry registry;
    private final Counter switched;
    private final Counter refused;
    private final Timer untilServed;

    public ModelMetrics(final MeterRegistry registry) {
        this.registry = registry;
        switched = switches("switched");
        refused = switches("refused");
        untilServed = Timer.builder("digits.model.switch.latency")
                .description("From the control record naming a version live to its first forward pass here")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(10))
                .maximumExpectedValue(Duration.ofMinutes(2)).register(registry);
    }

    private Counter switches(final String result) {
        return Counter.builder("digits.model.switches").tag("result", result)
                .description("Model switches the control record asked for, by result").register(registry);
    }

    public void switched() {
        switched.increment();
    }

    public void refused(final String reason) {
        refused.increment();
        Counter.builder("digits.model.releases.refused").tag("reason", reason)
                .description("Model releases refused, by reason").register(registry).increment();
    }

    /** Records how long after the control record a new live version made its first forward pass here. */
    public void served(final long millisAfterControl) {
        untilServed.record(Math.max(0, millisAfterControl), TimeUnit.MILLISECONDS);
    }
}
