package io.digitstream.stream;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.digitstream.stream.cli.StreamApp;

/**
 * The embedded broker in a JVM of its own ({@code stream-app broker}), so a test can kill it with a
 * real SIGKILL and start it again on the same data. It exits with the test's JVM.
 */
public final class BrokerProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofMinutes(1);

    private final Process process;
    private final int port;

    private BrokerProcess(final Process process, final int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts a broker on {@code port} with its data in {@code dir}, and waits until it serves. */
    public static BrokerProcess start(final Path dir, final int port) throws Exception {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process process = new ProcessBuilder(List.of(java, "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), StreamApp.class.getName(), "broker", "--port",
                Integer.toString(port), "--dir", dir.toString(), "--exit-with-parent"))
                .redirectErrorStream(true).start();
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith("Kafka broker on")) {
                        ready.complete(null);
                    }
                }
            } catch (final IOException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new IllegalStateException("the broker process ended before it served"));
        }, "broker-output");
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (final Exception e) {
            process.destroyForcibly().waitFor();
            throw e;
        }
        return new BrokerProcess(process, port);
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** SIGKILL, and waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
