package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.consumerAtEnd;
import static io.digitstream.stream.TestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;

/** Slow, oversized and malformed HTTP requests against the running app while images flow through it. */
@ExtendWith(KafkaClusterExtension.class)
class HttpUnderLoadTest {

    private static final int IMAGES = 2_000;
    private static final int SLOW_CLIENTS = 6;

    @TempDir
    Path dir;

    @Test
    void keepsClassifyingAndAnsweringHealthWhileClientsMisbehave() throws Exception {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "http-load");
        final HttpClient client = HttpClient.newHttpClient();
        final List<Socket> slow = new ArrayList<>();
        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                KafkaProducer<String, String> producer = producer();
                KafkaConsumer<String, String> reader = consumerAtEnd(Topics.PREDICTIONS)) {
            for (int i = 0; i < IMAGES; i++) {
                final String id = String.format("http-%04d", i);
                producer.send(new ProducerRecord<>(Topics.IMAGES, id, TestFixtures.json(
                        DigitImage.ofPixels(id, TestFixtures.pixels(i), null, null, null))));
            }
            producer.flush();
            // Clients that send their headers and then nothing, or part of their headers: they may
            // hold the drawing pad's share of the server, never /health.
            for (int i = 0; i < SLOW_CLIENTS; i++) {
                final Socket socket = new Socket("localhost", service.httpPort());
                socket.getOutputStream().write(("POST /api/classify HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"png\":")
                        .getBytes(StandardCharsets.US_ASCII));
                slow.add(socket);
                final Socket headers = new Socket("localhost", service.httpPort());
                headers.getOutputStream().write("GET /health HTTP/1.1\r\nHost: loc".getBytes(StandardCharsets.US_ASCII));
                slow.add(headers);
            }
            assertThat(rawRequest(service.httpPort(), "POST /api/classify HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 50000000\r\n\r\n")).startsWith("HTTP/1.1 413");
            assertThat(rawRequest(service.httpPort(), "GARBAGE\r\n")).startsWith("HTTP/1.1 400");
            assertThat(send(client, service, "/health")).startsWith("200 ").contains("\"UP\"");
            assertThat(send(client, service, "/metrics")).startsWith("200 ");

            final Set<String> predicted = new HashSet<>();
            await().atMost(Duration.ofMinutes(3)).until(() -> {
                reader.poll(Duration.ofMillis(200)).forEach(record -> {
                    final Prediction p = JsonSerde.serdeFor(Prediction.class).deserialize(record.topic(),
                            record.value().getBytes(StandardCharsets.UTF_8));
                    if (p.id().startsWith("http-")) {
                        predicted.add(p.id());
                    }
                });
                return predicted.size() == IMAGES;
            });
            // The server gives up on requests that do not arrive in time.
            for (final Socket socket : slow) {
                socket.setSoTimeout((int) Duration.ofSeconds(60).toMillis());
                assertThat(drain(socket.getInputStream())).as("the slow client's connection is closed").isTrue();
            }
            assertThat(send(client, service, "/health")).startsWith("200 ");
        } finally {
            for (final Socket socket : slow) {
                socket.close();
            }
        }
    }

    private static String send(final HttpClient client, final StreamService service, final String path)
            throws Exception {
        final HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + service.httpPort() + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    /** Sends {@code request} as it is and returns the answer's first line. */
    private static String rawRequest(final int port, final String request) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
            final OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final byte[] answer = socket.getInputStream().readNBytes(12);
            return new String(answer, StandardCharsets.US_ASCII);
        }
    }

    /** Reads until the server closes the connection; true if it did. */
    private static boolean drain(final InputStream in) {
        try {
            while (in.read() >= 0) {
                // what the server answered before closing, if anything
            }
            return true;
        } catch (final IOException e) {
            return e instanceof java.net.SocketException;
        }
    }
}
