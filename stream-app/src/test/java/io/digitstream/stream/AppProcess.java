package io.digitstream.stream;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.digitstream.stream.cli.StreamApp;

/**
 * The stream app in a JVM of its own ({@code stream-app --set ...}), so a test can kill it with a
 * real SIGKILL and start it again on the same state. It exits with the test's JVM.
 */
public final class AppProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    /** The app's log line saying it runs, with its HTTP port. */
    private static final Pattern UP = Pattern.compile("Classifying .* dashboard on http://localhost:(\\d+)/");

    private final Process process;
    private final int httpPort;
    private final List<String> output;

    private AppProcess(final Process process, final int httpPort, final List<String> output) {
        this.process = process;
        this.httpPort = httpPort;
        this.output = output;
    }

    /** Starts the app with {@code settings} (as {@code --set key=value}) and waits until it serves. */
    public static AppProcess start(final Map<String, String> settings) throws Exception {
        final List<String> command = new ArrayList<>(List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "-cp", System.getProperty("java.class.path"), StreamApp.class.getName(), "--exit-with-parent"));
        settings.forEach((key, value) -> command.addAll(List.of("--set", key + "=" + value)));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("OMP_NUM_THREADS", "1");
        final Process process = builder.start();
        final CompletableFuture<Integer> ready = new CompletableFuture<>();
        final List<String> output = Collections.synchronizedList(new ArrayList<>());
        final Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    output.add(line);
                    final Matcher up = UP.matcher(line);
                    if (up.find()) {
                        ready.complete(Integer.parseInt(up.group(1)));
                    }
                }
            } catch (final IOException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new IllegalStateException("the app process ended before it served"));
        }, "app-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return new AppProcess(process, ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS), output);
        } catch (final Exception e) {
            process.destroyForcibly().waitFor();
            throw e;
        }
    }

    public int httpPort() {
        return httpPort;
    }

    public long pid() {
        return process.pid();
    }

    /** What the app has printed so far, a line each. */
    public List<String> output() {
        synchronized (output) {
            return List.copyOf(output);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** GETs {@code path} of the app's HTTP endpoints; the body. */
    public String get(final String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + httpPort + path)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** SIGKILL, and waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** SIGTERM, the app's clean shutdown, and waits until it has exited. */
    public void stop() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            kill();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
