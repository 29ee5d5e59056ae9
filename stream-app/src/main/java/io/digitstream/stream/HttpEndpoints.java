package io.digitstream.stream;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

import org.apache.kafka.streams.KafkaStreams;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.schemas.JsonSerde;

/** The app's HTTP side: {@code /metrics} for Prometheus and {@code /health} for orchestrators. */
public final class HttpEndpoints implements AutoCloseable {

    private static final int OK = 200;
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
     */
    public static HttpEndpoints start(final int port, final PrometheusMeterRegistry registry,
            final Supplier<KafkaStreams.State> state, final String modelVersion) {
        try {
            final HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
            server.createContext("/metrics", exchange -> respond(exchange, OK,
                    "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
            server.createContext("/health", exchange -> {
                final KafkaStreams.State current = state.get();
                final boolean up = current == KafkaStreams.State.RUNNING || current == KafkaStreams.State.REBALANCING;
                respond(exchange, up ? OK : UNAVAILABLE, "application/json",
                        JsonSerde.MAPPER.writeValueAsString(Map.of("status", up ? "UP" : "DOWN",
                                "streamsState", String.valueOf(current), "modelVersion", modelVersion)));
            });
            server.createContext("/", exchange -> {
                if (!"/".equals(exchange.getRequestURI().getPath())) {
                    respond(exchange, NOT_FOUND, "text/plain", "not found; try /metrics or /health\n");
                } else {
                    respond(exchange, OK, "text/plain", "digit-stream: /metrics (Prometheus), /health\n");
                }
            });
            server.setExecutor(Executors.newFixedThreadPool(2, runnable -> {
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
            final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
