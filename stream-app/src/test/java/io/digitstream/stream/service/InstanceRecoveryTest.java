package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.stream.AppProcess;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.PredictionLog;
import io.digitstream.stream.SteadyImages;
import io.digitstream.stream.TestFixtures;

/**
 * The app in its own JVM, SIGKILLed part-way through a steady stream and started again at once on
 * the same state directory, which keeps its {@code group.instance.id}: its static membership takes
 * its partitions back without waiting out the dead member's session, and under exactly-once every
 * image gets one prediction and each labeled image counts once. Prints the gap.
 */
@ExtendWith(KafkaClusterExtension.class)
class InstanceRecoveryTest {

    private static final int IMAGES = 10_000;
    private static final int RATE = 500;
    /** This test's event time: an accuracy window of its own on the shared broker. */
    private static final Instant EVENT_TIME = Instant.now().minus(Duration.ofDays(5));
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    /** Without static membership the partitions wait out the 45 s session of the killed member. */
    private static final Duration MUCH_LESS_THAN_A_SESSION = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aKilledInstanceRestartedWithItsInstanceIdClassifiesAgainWithinSecondsAndLosesNothing()
            throws Exception {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "recovery");
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_GRACE_MS, Long.toString(Duration.ofDays(7).toMillis()));
        final String prefix = "recovery-" + System.nanoTime() + "-";
        final String bootstrap = KafkaClusterExtension.bootstrapServers();

        // The app creates its topics; the reader starts at their end once they are there.
        AppProcess app = AppProcess.start(settings);
        try (PredictionLog predictions = new PredictionLog(bootstrap, prefix);
                KafkaProducer<String, String> producer = producer();
                SteadyImages images = SteadyImages.start(producer, prefix, IMAGES, RATE, EVENT_TIME.toEpochMilli())) {
            predictions.awaitAtLeast(3_000, TIMEOUT);
            app.kill();
            final long killedAt = System.currentTimeMillis();
            final long lastBefore = predictions.newest();
            app = AppProcess.start(settings);
            final long upAt = System.currentTimeMillis();
            await().atMost(TIMEOUT).until(() -> {
                predictions.poll();
                return predictions.firstAfter(killedAt) > 0;
            });
            final long firstAfter = predictions.firstAfter(killedAt);
            System.out.printf(Locale.ROOT, "Recovery as the same static member: killed %.1f s after the"
                    + " last prediction before; the restarted app up %.1f s after the kill; its first"
                    + " prediction %.1f s after it was up; no predictions for %.1f s%n",
                    (killedAt - lastBefore) / 1000.0, (upAt - killedAt) / 1000.0,
                    (firstAfter - upAt) / 1000.0, (firstAfter - lastBefore) / 1000.0);
            assertThat(Duration.ofMillis(firstAfter - upAt)).isLessThan(MUCH_LESS_THAN_A_SESSION);

            images.awaitSent();
            predictions.awaitAtLeast(IMAGES, TIMEOUT);
            predictions.poll();
            assertThat(predictions.duplicates()).isZero();
            assertThat(predictions.count()).isEqualTo(IMAGES);
            assertThat(PredictionLog.countedInAccuracy(bootstrap, EVENT_TIME.toEpochMilli(), IMAGES, TIMEOUT))
                    .isEqualTo(IMAGES);
        } finally {
            app.close();
        }
    }

    @Test
    void aCleanlyStoppedInstanceHandsItsPartitionsOverAtOnce() throws Exception {
        final Map<String, String> first = TestFixtures.appSettings(dir.resolve("a"), "handover");
        final Map<String, String> second = new HashMap<>(first);
        second.put("state.dir", dir.resolve("b").resolve("state").toString());
        // A broker of its own: on the shared one, the first instance's state from other tests' images
        // keeps the second on warm-up tasks until it catches up (Kafka Streams' high-availability
        // assignment), and the test would measure that instead.
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("broker"))) {
            first.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            second.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            handOver(first, second);
        }
    }

    private static void handOver(final Map<String, String> first, final Map<String, String> second) {
        try (StreamService a = StreamService.start(AppConfig.load(null, Map.of(), first))) {
            final StreamService b = StreamService.start(AppConfig.load(null, Map.of(), second));
            try {
                await().atMost(TIMEOUT).until(() -> !a.ownedInputs().isEmpty() && !b.ownedInputs().isEmpty());
            } finally {
                b.close();
            }
            final long stoppedAt = System.nanoTime();
            // Both input topics' partitions, long before the 45 s a member that did not leave would hold them.
            await().atMost(MUCH_LESS_THAN_A_SESSION).until(() -> a.ownedInputs().size() == 2 * partitions());
            System.out.printf(Locale.ROOT, "Clean stop of one of two static members: the other held every"
                    + " partition %.1f s later%n", (System.nanoTime() - stoppedAt) / 1e9);
        }
    }

    private static int partitions() {
        return Integer.parseInt(AppConfig.DEFAULTS.get(AppConfig.PARTITIONS));
    }
}
