package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** The HTTP side's answers to bad requests and its health, on a real HTTP server without Kafka. */
class HttpEndpointsTest {

    private final HttpClient client = HttpClient.newHttpClient();
    private final AtomicInteger drawings = new AtomicInteger();
    private final AtomicReference<List<ProgressWatch.Stuck>> stuck = new AtomicReference<>(List.of());
    private final AtomicReference<ProgressWatch.Backlog> backlog = new AtomicReference<>(
            new ProgressWatch.Backlog(0, 0, 0));
    private HttpEndpoints http;

    @AfterEach
    void stop() {
        http.close();
    }

    private void start(final boolean classifyEnabled, final int perSecond) {
        http = HttpEndpoints.start(new HttpSettings("localhost", 0, classifyEnabled, perSecond, Duration.ofMinutes(1),
                Duration.ofSeconds(10)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> KafkaStreams.State.RUNNING, stuck::get, backlog::get,
                () -> "v1", null, () -> null, png -> "canvas-" + drawings.incrementAndGet());
    }

    @Test
    void answersMalformedRequestsWithAClientErrorSayingWhatIsWrong() throws Exception {
        start(true, 1_000);

        assertThat(post("{not json")).startsWith("400 ").contains("not JSON");
        assertThat(post("{\"png\": 5}")).startsWith("400 ").contains("png");
        assertThat(post("[]")).startsWith("400 ");
        assertThat(post("")).startsWith("400 ");
        assertThat(send(HttpRequest.newBuilder(uri("/api/classify")).GET())).startsWith("405 ").contains("POST");
        assertThat(send(HttpRequest.newBuilder(uri("/health")).DELETE())).startsWith("405 ");
        assertThat(post("{\"png\": \"iVBORw0KGgo=\"}")).startsWith("202 ").contains("canvas-1");
        assertThat(drawings).hasValue(1);
    }

    @Test
    void refusesABodyOverTheLimitBeforeReadingIt() throws Exception {
        start(true, 1_000);
        final byte[] big = new byte[HttpEndpoints.MAX_BODY + 1];

        assertThat(send(HttpRequest.newBuilder(uri("/api/classify"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)))).startsWith("413 ");
        // Chunked, without a length to refuse it by: read up to the limit, then refused.
        assertThat(send(HttpRequest.newBuilder(uri("/api/classify"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))))).startsWith("413 ");
        assertThat(drawings).hasValue(0);
    }

    @Test
    void limitsTheDrawingsASecondAndCanBeSwitchedOff() throws Exception {
        start(true, 3);
        final List<String> answers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            answers.add(post("{\"png\": \"iVBORw0KGgo=\"}"));
        }
        assertThat(answers).filteredOn(answer -> answer.startsWith("202 ")).hasSizeBetween(3, 5);
        assertThat(answers).filteredOn(answer -> answer.startsWith("429 ")).isNotEmpty();
        http.close();

        start(false, 3);
        assertThat(post("{\"png\": \"iVBORw0KGgo=\"}")).startsWith("403 ").contains("http.classify.enabled");
    }

    @Test
    void reportsStuckPartitionsAsDown() throws Exception {
        start(true, 3);
        assertThat(send(HttpRequest.newBuilder(uri("/health")).GET())).startsWith("200 ").contains("\"UP\"");

        stuck.set(List.of(new ProgressWatch.Stuck("digits.images-1", 42, 90, 75)));

        assertThat(send(HttpRequest.newBuilder(uri("/health")).GET())).startsWith("503 ").contains("\"DOWN\"")
                .contains("digits.images-1").contains("\"committedOffset\":42").contains("\"endOffset\":90");
    }

    @Test
    void isReadyOnlyWhenCaughtUpWhileStayingLiveThroughABacklog() throws Exception {
        start(true, 3);
        assertThat(send(HttpRequest.newBuilder(uri("/health/ready")).GET())).startsWith("200 ")
                .contains("\"READY\"");

        // 8,000 records behind at 150 a second: nearly a minute, far more than the 10 s allowed.
        backlog.set(new ProgressWatch.Backlog(8_000, 150, 8_000 / 150.0));
        assertThat(send(HttpRequest.newBuilder(uri("/health/ready")).GET())).startsWith("503 ")
                .contains("\"NOT_READY\"").contains("8,000 records wait").contains("about 53 s")
                .contains("health.ready.max.behind.ms");
        assertThat(send(HttpRequest.newBuilder(uri("/health")).GET())).startsWith("200 ").contains("\"UP\"")
                .contains("\"records\":8000");

        // Not yet checked (a fresh start): not ready, still live.
        backlog.set(null);
        assertThat(send(HttpRequest.newBuilder(uri("/health/ready")).GET())).startsWith("503 ")
                .contains("not checked yet");
        assertThat(send(HttpRequest.newBuilder(uri("/health")).GET())).startsWith("200 ");

        backlog.set(new ProgressWatch.Backlog(300, 150, 2));
        assertThat(send(HttpRequest.newBuilder(uri("/health/ready")).GET())).startsWith("200 ");
        stuck.set(List.of(new ProgressWatch.Stuck("digits.images-1", 42, 90, 75)));
        assertThat(send(HttpRequest.newBuilder(uri("/health/ready")).GET())).startsWith("503 ")
                .contains("no progress");
    }

    private String post(final String body) throws Exception {
        return send(HttpRequest.newBuilder(uri("/api/classify")).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private String send(final HttpRequest.Builder request) throws Exception {
        final HttpResponse<String> response = client.send(request.timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    private URI uri(final String path) {
        return URI.create("http://localhost:" + http.port() + path);
    }
}
