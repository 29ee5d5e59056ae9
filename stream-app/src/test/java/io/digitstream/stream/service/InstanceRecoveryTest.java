package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.consumer;
import static io.digitstream.stream.TestClients.consumerAtEnd;
import static io.digitstream.stream.TestClients.producer;
import static io.digitstream.stream.TestFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.AppProcess;
import io.digitstream.stream.KafkaClusterExtension;
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
        final MnistDataset test = TestFixtures.mnist().test();
        final String prefix = "recovery-" + System.nanoTime() + "-";
        final Map<String, Prediction> predictions = new HashMap<>();
        final AtomicInteger duplicates = new AtomicInteger();
        final AtomicBoolean stop = new AtomicBoolean();

        // The app creates its topics; the reader starts at their end once they are there.
        AppProcess app = AppProcess.start(settings);
        try (KafkaConsumer<String, String> reader = consumerAtEnd(Topics.PREDICTIONS);
                KafkaProducer<String, String> producer = producer()) {
            try {
                final Thread sender = new Thread(() -> {
                    final long start = System.nanoTime();
                    for (int i = 0; i < IMAGES && !stop.get(); i++) {
                        final String id = prefix + i;
                        producer.send(new ProducerRecord<>(Topics.IMAGES, id, json(DigitImage.ofPixels(id,
                                TestFixtures.pixels(i), test.label(i), EVENT_TIME.toEpochMilli(), "recovery"))));
                        final long wait = start + (i + 1) * (1_000_000_000L / RATE) - System.nanoTime();
                        if (wait > 0) {
                            try {
                                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                            } catch (final InterruptedException e) {
                                return;
                            }
                        }
                    }
                    producer.flush();
                }, "recovery-images");
                sender.start();

                await().atMost(TIMEOUT).until(() -> read(reader, prefix, predictions, duplicates) >= 3_000);
                app.kill();
                final long killedAt = System.currentTimeMillis();
                final long lastBefore = predictions.values().stream().mapToLong(Prediction::processingTime).max()
                        .orElseThrow();
                app = AppProcess.start(settings);
                final long upAt = System.currentTimeMillis();
                final long[] firstAfter = {-1};
                await().atMost(TIMEOUT).until(() -> {
                    read(reader, prefix, predictions, duplicates);
                    predictions.values().stream().mapToLong(Prediction::processingTime).filter(t -> t > killedAt)
                            .min().ifPresent(t -> firstAfter[0] = t);
                    return firstAfter[0] > 0;
                });
                System.out.printf(Locale.ROOT, "Recovery as the same static member: killed %.1f s after the"
                        + " last prediction before; the restarted app up %.1f s after the kill; its first"
                        + " prediction %.1f s after it was up; no predictions for %.1f s%n",
                        (killedAt - lastBefore) / 1000.0, (upAt - killedAt) / 1000.0,
                        (firstAfter[0] - upAt) / 1000.0, (firstAfter[0] - lastBefore) / 1000.0);
                assertThat(Duration.ofMillis(firstAfter[0] - upAt)).isLessThan(MUCH_LESS_THAN_A_SESSION);

                sender.join();
                await().atMost(TIMEOUT).until(() -> read(reader, prefix, predictions, duplicates) >= IMAGES);
                read(reader, prefix, predictions, duplicates);
                assertThat(duplicates.get()).isZero();
                assertThat(predictions).hasSize(IMAGES);
                assertEachLabeledImageCountsOnce();
            } finally {
                stop.set(true);
            }
        } finally {
            app.close();
        }
    }

    @Test
    void aCleanlyStoppedInstanceHandsItsPartitionsOverAtOnce() throws Exception {
        final Map<String, String> first = TestFixtures.appSettings(dir.resolve("a"), "handover");
        final Map<String, String> second = new HashMap<>(first);
        second.put("state.dir", dir.resolve("b").resolve("state").toString());
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

    /** The accuracy rows of this test's window, all classes, add up to its images: none counted twice. */
    private static void assertEachLabeledImageCountsOnce() {
        final Map<String, Long> total = new HashMap<>();
        try (KafkaConsumer<String, String> rows = consumer(Topics.ACCURACY)) {
            await().atMost(TIMEOUT).until(() -> {
                rows.poll(Duration.ofMillis(200)).forEach(record -> {
                    final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(record.topic(),
                            record.value().getBytes(StandardCharsets.UTF_8));
                    if (row.trueClass().equals(ClassAccuracy.ALL_CLASSES)
                            && row.windowStart() <= EVENT_TIME.toEpochMilli()
                            && EVENT_TIME.toEpochMilli() < row.windowEnd()) {
                        total.merge(row.modelVersion(), row.total(), Math::max);
                    }
                });
                return total.values().stream().mapToLong(Long::longValue).sum() >= IMAGES;
            });
        }
        assertThat(total.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(IMAGES);
    }

    private static int read(final KafkaConsumer<String, String> reader, final String prefix,
            final Map<String, Prediction> predictions, final AtomicInteger duplicates) {
        for (final ConsumerRecord<String, String> record : reader.poll(Duration.ofMillis(100))) {
            if (record.key() != null && record.key().startsWith(prefix)) {
                final Prediction p = JsonSerde.serdeFor(Prediction.class).deserialize(record.topic(),
                        record.value().getBytes(StandardCharsets.UTF_8));
                if (predictions.put(p.id(), p) != null) {
                    duplicates.incrementAndGet();
                }
            }
        }
        return predictions.size();
    }
}
