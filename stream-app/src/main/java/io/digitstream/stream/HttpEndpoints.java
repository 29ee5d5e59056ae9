package io.digitstream.stream;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;
import java.io.InputStream;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import org.apache.kafka.streams.KafkaStreams;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;

/**
 * The app's HTTP side: {@code /metrics} for Prometheus, {@code /health} for orchestrators, and the
 * live dashboard at {@code /} with its JSON API ({@code /api/summary}, {@code /api/classify},
 * {@code /api/predictions/{id}}).
 */
public final class HttpEndpoints implements AutoCloseable {

    private static final int OK = 200;
    private static final int ACCEPTED = 202;
    private static final int BAD_REQUEST = 400;
    private static final String JSON = "application/json";
    /** A drawn digit is a few kilobytes; refuse anything near the image size limit. */
    private static final int MAX_CANVAS = 1_000_000;
    /** The dashboard's files, served from the classpath folder dashboard/. */
    private static final Map<String, String> STATIC = Map.of(
            "index.html", "text/html; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8");
    private static final int NOT_FOUND = 404;
    private static final int METHOD_NOT_ALLOWED = 405;
    private static final int UNAVAILABLE = 503;

    private final HttpServer server;

    private HttpEndpoints(final HttpServer server) {
        this.server = server;
    }

    /**
     * @param port         0 for any free port
     * @param registry     what /metrics shows
     * @param state        the Streams state /health reports
     * @param modelVersion the serving model, reported by /health
     * @param feed         what the dashboard shows
     * @param canvas       sends a drawn digit (base64 PNG) to digits.images and returns its id
     */
    public static HttpEndpoints start(final int port, final PrometheusMeterRegistry registry,
            final Supplier<KafkaStreams.State> state, final String modelVersion, final DashboardFeed feed,
            final UnaryOperator<String> canvas) {
        try {
            final HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
            server.createContext("/metrics", exchange -> respond(exchange, OK,
                    "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
            server.createContext("/health", exchange -> {
                final KafkaStreams.State current = state.get();
                final boolean up = current == KafkaStreams.State.RUNNING || current == KafkaStreams.State.REBALANCING;
                respond(exchange, up ? OK : UNAVAILABLE, JSON, JsonSerde.MAPPER.writeValueAsString(Map.of(
                        "status", up ? "UP" : "DOWN", "streamsState", String.valueOf(current),
                        "modelVersion", modelVersion)));
            });
            server.createContext("/api/summary", exchange ->
                    respond(exchange, OK, JSON, JsonSerde.MAPPER.writeValueAsString(feed.snapshot())));
            server.createContext("/api/predictions/", exchange -> {
                final String id = exchange.getRequestURI().getPath().substring("/api/predictions/".length());
                final Prediction prediction = feed.prediction(id);
                if (prediction == null) {
                    respond(exchange, NOT_FOUND, JSON, "{\"pending\":true}");
                } else {
                    respond(exchange, OK, JSON, JsonSerde.MAPPER.writeValueAsString(prediction));
                }
            });
            server.createContext("/api/classify", exchange -> {
                try (exchange) {
                    if (!"POST".equals(exchange.getRequestMethod())) {
                        exchange.sendResponseHeaders(METHOD_NOT_ALLOWED, -1);
                        return;
                    }
                    final JsonNode body = JsonSerde.MAPPER.readTree(exchange.getRequestBody());
                    if (body == null || !body.hasNonNull("png") || body.get("png").asText().length() > MAX_CANVAS) {
                        send(exchange, BAD_REQUEST, JSON, "{\"error\":\"send {\\\"png\\\": base64 PNG}\"}");
                        return;
                    }
                    final String id = canvas.apply(body.get("png").asText());
                    send(exchange, ACCEPTED, JSON, JsonSerde.MAPPER.writeValueAsString(Map.of("id", id)));
                }
            });
            server.createContext("/", exchange -> {
                final String path = exchange.getRequestURI().getPath();
                final String file = "/".equals(path) ? "index.html" : path.substring(1);
                final String type = STATIC.get(file);
                if (type == null) {
                    respond(exchange, NOT_FOUND, "text/plain", "not found; try /, /metrics or /health\n");
                    return;
                }
                try (InputStream in = HttpEndpoints.class.getResourceAsStream("/dashboard/" + file)) {
                    respond(exchange, OK, type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            });
            server.setExecutor(Executors.newFixedThreadPool(4, runnable -> {
                final Thread thread = new Thread(runnable, "http");
                thread.setDaemon(true);
                return thread;
            }));
            server.start();
            return new HttpEndpoints(server);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot serve HTTP on port " + port + ": " + e.getMessage()
                    + "; choose another with --http-port", e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private static void respond(final HttpExchange exchange, final int status, final String contentType,
            final String body) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(METHOD_NOT_ALLOWED, -1);
                return;
            }
            send(exchange, status, contentType, body);
        }
    }

    private static void send(final HttpExchange exchange, final int status, final String contentType,
            final String body) throws IOException {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
