package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

class StreamMetricsTest {

    @Test
    void onlyTheVersionServingIsShown() {
        final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        final StreamMetrics metrics = new StreamMetrics(registry);
        metrics.modelVersion("v1");
        metrics.modelVersion("v2");
        assertThat(registry.scrape()).doesNotContain("digits_model_version_info{version=\"v1\"}")
                .contains("digits_model_version_info{version=\"v2\"} 1");
        metrics.modelVersion("v1");
        assertThat(registry.scrape()).contains("digits_model_version_info{version=\"v1\"} 1")
                .doesNotContain("digits_model_version_info{version=\"v2\"}");
    }
}
