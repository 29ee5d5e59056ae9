package io.digitstream.stream.service;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;

/**
 * The app's HTTP side: {@code /metrics} for Prometheus, {@code /health} for orchestrators, and the
 * live dashboard at {@code /} with its JSON API ({@code /api/summary}, {@code /api/classify},
 * {@code /api/predictions/{id}}).
 *
 * <p>Nothing a client sends can take more than a bounded share of it: request bodies are refused
 * past {@value #MAX_BODY} bytes before they are read, a request must arrive within {@value
 * #MAX_REQUEST_SECONDS} s, {@code /api/classify} takes a limited number of images a second (and can
 * be switched off), and every malformed request gets a 4xx answer saying what is wrong.
 */
public final class HttpEndpoints implements AutoCloseable {

    private static final int OK = 200;
    private static final int ACCEPTED = 202;
    private static final int BAD_REQUEST = 400;
    private static final int FORBIDDEN = 403;
    private static final int NOT_FOUND = 404;
    private static final int METHOD_NOT_ALLOWED = 405;
    private static final int PAYLOAD_TOO_LARGE = 413;
    private static final int TOO_MANY_REQUESTS = 429;
    private static final int SERVER_ERROR = 500;
    private static final int UNAVAILABLE = 503;
    private static final String JSON = "application/json";
    /** A drawn digit is a few kilobytes; a request body is refused past this. */
    static final int MAX_BODY = 1_000_000;
    /** A refused request's body is read and dropped up to this size, and not waited for past it. */
    private static final int MAX_DRAINED = 64 * 1024;
    /** How long a client may take to send its request: slow clients cannot hold the handler threads. */
    static final int MAX_REQUEST_SECONDS = 10;
    /**
     * The JDK's server reads each request's headers and body on a handler thread: a client that sends
     * slowly holds one for up to {@link #MAX_REQUEST_SECONDS}. Threads are cheap; /health must answer.
     */
    private static final int HANDLER_THREADS = 16;
    /** Drawings read at once: slow uploads cannot take the threads /health and /metrics need. */
    static final int CLASSIFY_AT_ONCE = 2;
    /** The dashboard's files, served from the classpath folder dashboard/. */
    private static final Map<String, String> STATIC = Map.of(
            "index.html", "text/html; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8");
    private static final Logger log = LoggerFactory.getLogger(HttpEndpoints.class);

    private final HttpServer server;

    private HttpEndpoints(final HttpServer server) {
        this.server = server;
    }

    /**
     * This instance among the app's instances: its static member id and the input partitions it
     * owns, with the group's committed offset and lag on each.
     */
    public record Instance(String instanceId, String applicationId, List<ProgressWatch.PartitionProgress> partitions) {
    }

    /**
     * @param settings     where to listen, and the drawing pad's limits
     * @param registry     what /metrics shows
     * @param state        the Streams state /health reports
     * @param stuck        the partitions making no progress, which /health reports as down
     * @param backlog      how far behind its input this instance reads (null before it is known), which
     *                     /health shows and /health/ready judges
     * @param modelVersion the serving model, reported by /health
     * @param feed         what the dashboard shows
     * @param instance     this instance's partitions, which /api/summary shows beside the feed
     * @param canvas       sends a drawn digit (base64 PNG) to digits.images and returns its id
     */
    public static HttpEndpoints start(final HttpSettings settings, final PrometheusMeterRegistry registry,
            final Supplier<KafkaStreams.State> state, final Supplier<List<ProgressWatch.Stuck>> stuck,
            final Supplier<ProgressWatch.Backlog> backlog,
            final Supplier<String> modelVersion, final DashboardFeed feed, final Supplier<Instance> instance,
            final UnaryOperator<String> canvas) {
        // Read once by the JDK's server when it first starts; a user's own -D setting wins. A request
        // must arrive within the time; a body left unread (a refused upload) is not waited for, the
        // connection is closed instead.
        System.setProperty("sun.net.httpserver.maxReqTime",
                System.getProperty("sun.net.httpserver.maxReqTime", Integer.toString(MAX_REQUEST_SECONDS)));
        System.setProperty("sun.net.httpserver.drainAmount",
                System.getProperty("sun.net.httpserver.drainAmount", "0"));
        final RateLimit classifyRate = new RateLimit(settings.classifyPerSecond());
        final Semaphore classifying = new Semaphore(CLASSIFY_AT_ONCE);
        try {
            final HttpServer server = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 0);
            server.createContext("/metrics", get(exchange -> send(exchange, OK,
                    "text/plain; version=0.0.4; charset=utf-8", registry.scrape())));
            // Liveness: the app runs and no partition is stuck. A backlog is not a reason to restart it.
            server.createContext("/health", get(exchange -> {
                final Health health = health(state.get(), stuck.get(), backlog.get(), modelVersion.get(),
                        settings.readyMaxBehind());
                send(exchange, health.up() ? OK : UNAVAILABLE, JSON,
                        JsonSerde.MAPPER.writeValueAsString(health.body("UP", "DOWN", health.up())));
            }));
            // Readiness: live, and caught up with its input partitions (a fresh start, a cluster's first
            // minute or a backlog make it not ready until it is within the set time of their end).
            server.createContext("/health/ready", get(exchange -> {
                final Health health = health(state.get(), stuck.get(), backlog.get(), modelVersion.get(),
                        settings.readyMaxBehind());
                send(exchange, health.ready() ? OK : UNAVAILABLE, JSON,
                        JsonSerde.MAPPER.writeValueAsString(health.body("READY", "NOT_READY", health.ready())));
            }));
            server.createContext("/api/summary", get(exchange -> {
                final ObjectNode body = JsonSerde.MAPPER.valueToTree(feed.snapshot());
                body.set("instance", JsonSerde.MAPPER.valueToTree(instance.get()));
                send(exchange, OK, JSON, JsonSerde.MAPPER.writeValueAsString(body));
            }));
            server.createContext("/api/predictions/", get(exchange -> {
                final String id = exchange.getRequestURI().getPath().substring("/api/predictions/".length());
                final Prediction prediction = feed.prediction(id);
                if (prediction == null) {
                    send(exchange, NOT_FOUND, JSON, "{\"pending\":true}");
                } else {
                    send(exchange, OK, JSON, JsonSerde.MAPPER.writeValueAsString(prediction));
                }
            }));
            server.createContext("/api/classify", guarded(exchange -> {
                if (!"POST".equals(exchange.getRequestMethod())) {
                    error(exchange, METHOD_NOT_ALLOWED, "POST a JSON object {\"png\": \"<base64 PNG>\"}");
                } else if (!settings.classifyEnabled()) {
                    error(exchange, FORBIDDEN, "the drawing pad is switched off on this app (http.classify.enabled)");
                } else if (declaredLength(exchange) > MAX_BODY) {
                    error(exchange, PAYLOAD_TOO_LARGE, "the body is " + declaredLength(exchange)
                            + " bytes, the limit is " + MAX_BODY);
                } else if (!classifyRate.tryAcquire() || !classifying.tryAcquire()) {
                    exchange.getResponseHeaders().set("Retry-After", "1");
                    error(exchange, TOO_MANY_REQUESTS, "more than " + settings.classifyPerSecond()
                            + " drawings a second, or " + CLASSIFY_AT_ONCE + " at once; try again in a moment");
                } else {
                    try {
                        classify(exchange, canvas);
                    } finally {
                        classifying.release();
                    }
                }
            }));
            server.createContext("/", get(exchange -> {
                final String path = exchange.getRequestURI().getPath();
                final String file = "/".equals(path) ? "index.html" : path.substring(1);
                final String type = STATIC.get(file);
                if (type == null) {
                    send(exchange, NOT_FOUND, "text/plain", "not found; try /, /metrics or /health\n");
                    return;
                }
                try (InputStream in = HttpEndpoints.class.getResourceAsStream("/dashboard/" + file)) {
                    send(exchange, OK, type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }));
            server.setExecutor(Executors.newFixedThreadPool(HANDLER_THREADS, runnable -> {
                final Thread thread = new Thread(runnable, "http");
                thread.setDaemon(true);
                return thread;
            }));
            server.start();
            return new HttpEndpoints(server);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot serve HTTP on " + settings.host() + ":" + settings.port() + ": "
                    + e.getMessage() + "; choose another port with --http-port or another address with --set "
                    + AppConfig.HTTP_HOST + "=...", e);
        }
    }

    /** The request's Content-Length, 0 when it has none (chunked), or Long.MAX_VALUE when it is not a number. */
    private static long declaredLength(final HttpExchange exchange) {
        final String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared == null) {
            return 0;
        }
        try {
            return Long.parseLong(declared.strip());
        } catch (final NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Reads the drawing's JSON; a body without a length is read up to {@link #MAX_BODY} and refused past it. */
    private static void classify(final HttpExchange exchange, final UnaryOperator<String> canvas) throws IOException {
        final byte[] body = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            error(exchange, PAYLOAD_TOO_LARGE, "the body is over the limit of " + MAX_BODY + " bytes");
            return;
        }
        final JsonNode json;
        try {
            json = JsonSerde.MAPPER.readTree(body);
        } catch (final JsonProcessingException e) {
            error(exchange, BAD_REQUEST, "the body is not JSON: " + e.getOriginalMessage());
            return;
        }
        if (json == null || !json.isObject() || !json.path("png").isTextual()) {
            error(exchange, BAD_REQUEST, "send a JSON object {\"png\": \"<base64 PNG>\"}");
            return;
        }
        final String id = canvas.apply(json.get("png").asText());
        send(exchange, ACCEPTED, JSON, JsonSerde.MAPPER.writeValueAsString(Map.of("id", id)));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** A handler that takes GET and HEAD only. */
    private static HttpHandler get(final HttpHandler handler) {
        return guarded(exchange -> {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                error(exchange, METHOD_NOT_ALLOWED, exchange.getRequestMethod() + " is not served here; use GET");
                return;
            }
            handler.handle(exchange);
        });
    }

    /** A handler whose failures are answered, not dropped with the connection, and which always closes. */
    private static HttpHandler guarded(final HttpHandler handler) {
        return exchange -> {
            try (exchange) {
                if (!hasBody(exchange)) {
                    // Reads the empty body's end, so the connection is kept for the client's next request.
                    exchange.getRequestBody().read();
                }
                handler.handle(exchange);
            } catch (final IOException | RuntimeException e) {
                log.warn("HTTP {} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                        e.toString());
                if (exchange.getResponseCode() == -1) {
                    error(exchange, SERVER_ERROR, "the request failed: " + e.getMessage());
                }
            }
        };
    }

    private static void error(final HttpExchange exchange, final int status, final String message)
            throws IOException {
        if (hasBody(exchange)) {
            // A small body is read and dropped, so the connection serves the client's next request (a
            // socket closed with unread bytes may lose the answer); a large one is not waited for.
            final long declared = declaredLength(exchange);
            if (declared > 0 && declared <= MAX_DRAINED) {
                exchange.getRequestBody().readNBytes((int) declared);
            } else {
                exchange.getResponseHeaders().set("Connection", "close");
            }
        }
        send(exchange, status, JSON, JsonSerde.MAPPER.writeValueAsString(Map.of("error", message)));
    }

    private static boolean hasBody(final HttpExchange exchange) {
        return declaredLength(exchange) > 0 || exchange.getRequestHeaders().containsKey("Transfer-Encoding");
    }

    private static void send(final HttpExchange exchange, final int status, final String contentType,
            final String body) throws IOException {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        final boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** At most {@code perSecond} permits a second, in bursts of up to that many: a token bucket. */
    static final class RateLimit {

        private final double perSecond;
        private double tokens;
        private long refilledAt = System.nanoTime();

        RateLimit(final int perSecond) {
            this.perSecond = perSecond;
            this.tokens = perSecond;
        }

        synchronized boolean tryAcquire() {
            final long now = System.nanoTime();
            tokens = Math.min(perSecond, tokens + (now - refilledAt) / 1e9 * perSecond);
            refilledAt = now;
            if (tokens < 1) {
                return false;
            }
            tokens--;
            return true;
        }
    }

    /** What /health and /health/ready see at one moment. */
    private record Health(KafkaStreams.State state, List<ProgressWatch.Stuck> stuck, ProgressWatch.Backlog backlog,
            String modelVersion, boolean up, boolean ready, String notReadyBecause) {

        Map<String, Object> body(final String yes, final String no, final boolean ok) {
            final Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", ok ? yes : no);
            body.put("streamsState", String.valueOf(state));
            body.put("modelVersion", modelVersion);
            if (backlog != null) {
                body.put("backlog", backlog);
            }
            if (!stuck.isEmpty()) {
                body.put("stuck", stuck);
            }
            if (!ready) {
                body.put("notReady", notReadyBecause);
            }
            return body;
        }
    }

    private static Health health(final KafkaStreams.State state, final List<ProgressWatch.Stuck> stuck,
            final ProgressWatch.Backlog backlog, final String modelVersion, final Duration maxBehind) {
        final boolean running = state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
        final boolean up = running && stuck.isEmpty();
        final String notReady;
        if (!up) {
            notReady = running ? "partitions make no progress" : "Kafka Streams is " + state;
        } else if (backlog == null) {
            notReady = "its input partitions are not checked yet";
        } else if (backlog.secondsBehind() * 1000 > maxBehind.toMillis()) {
            notReady = String.format(Locale.ROOT, "%,d records wait on its input partitions, about %.0f s of"
                    + " reading at %.0f records/s: more than %d s behind (health.ready.max.behind.ms)",
                    backlog.records(), backlog.secondsBehind(), backlog.recordsPerSecond(), maxBehind.toSeconds());
        } else {
            notReady = null;
        }
        return new Health(state, stuck, backlog, modelVersion, up, notReady == null, notReady);
    }
}
