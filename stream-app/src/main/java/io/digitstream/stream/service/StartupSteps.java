package io.digitstream.stream.service;

import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * How long each step of an instance's start took, for its "Classifying" log line: a restarted
 * instance's partitions wait for all of it, so where the time goes is worth a glance.
 */
final class StartupSteps {

    private final long started = System.nanoTime();
    private long last = started;
    private final StringJoiner steps = new StringJoiner(", ");

    /** Marks {@code step} done: it took the time since the step before. */
    void done(final String step) {
        final long now = System.nanoTime();
        steps.add(step + " " + TimeUnit.NANOSECONDS.toMillis(now - last));
        last = now;
    }

    @Override
    public String toString() {
        return "started in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms: " + steps;
    }
}
