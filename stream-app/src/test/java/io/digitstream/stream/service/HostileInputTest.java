package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.byteConsumer;
import static io.digitstream.stream.TestClients.consumer;
import static io.digitstream.stream.TestClients.consumerAtEnd;
import static io.digitstream.stream.TestClients.drainPredictions;
import static io.digitstream.stream.TestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.ImageDecoder;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.PngBombs;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.topology.DeadLetters;

/**
 * The running app on a real broker, fed valid images mixed with what a careless or hostile producer
 * sends: event times ahead and long ago, a compressed message over the size limit, PNG bombs, null
 * and garbage values, bad labels. Every valid image gets one prediction, every bad one a dead letter,
 * and /health stays UP throughout.
 */
@ExtendWith(KafkaClusterExtension.class)
class HostileInputTest {

    /** This test's images' event time: its own accuracy window on the shared broker. */
    private static final Instant EVENT_TIME = Instant.now().minus(Duration.ofDays(3));
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final int VALID = 1_000;
    private static final int HOSTILE_EVERY = 40;
    private static final String PREFIX = "hostile-";

    @TempDir
    Path dir;

    /** A hostile record: what is sent, how, and what must come of it. */
    private record Hostile(String topic, String key, String value, Long recordTimestamp, boolean compressed,
            String reason) {
    }

    @Test
    void classifiesEveryValidImageAndDeadLettersEveryBadOneWhileStayingUp() throws Exception {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "hostile");
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_GRACE_MS, Long.toString(Duration.ofDays(7).toMillis()));
        final MnistDataset test = TestFixtures.mnist().test();
        final List<Hostile> hostile = hostile();
        final List<String> expectedIds = new ArrayList<>();
        final Map<String, String> expectedReasons = new HashMap<>();
        final ConcurrentLinkedQueue<String> healthAnswers = new ConcurrentLinkedQueue<>();
        final HttpClient http = HttpClient.newHttpClient();
        final ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor();

        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                KafkaProducer<String, String> producer = producer();
                KafkaProducer<String, String> compressing = producer(Map.of(
                        ProducerConfig.COMPRESSION_TYPE_CONFIG, "gzip",
                        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(4 << 20)));
                KafkaConsumer<String, String> reader = consumerAtEnd(Topics.PREDICTIONS)) {
            watcher.scheduleAtFixedRate(() -> healthAnswers.add(health(http, service)), 0, 100,
                    TimeUnit.MILLISECONDS);
            for (int i = 0; i < VALID; i++) {
                final String id = String.format("h%04d", i);
                final boolean lateLabel = i % 10 == 0;
                producer.send(new ProducerRecord<>(Topics.IMAGES, id, json(DigitImage.ofPixels(id,
                        TestFixtures.pixels(i), lateLabel ? null : test.label(i), EVENT_TIME.toEpochMilli(),
                        "hostile-test"))));
                if (lateLabel) {
                    producer.send(new ProducerRecord<>(Topics.LABELS, id, json(new DigitLabel(id, test.label(i)))));
                }
                expectedIds.add(id);
                if (i % HOSTILE_EVERY == 0) {
                    final Hostile bad = hostile.get((i / HOSTILE_EVERY) % hostile.size());
                    final String key = bad.key() == null ? null : bad.key() + i;
                    final String value = bad.value() == null ? null : bad.value().replace("@ID@", key);
                    (bad.compressed() ? compressing : producer).send(new ProducerRecord<>(bad.topic(), null,
                            bad.recordTimestamp(), key, value));
                    if (bad.reason() == null) {
                        expectedIds.add(key);
                    } else {
                        expectedReasons.put(key, bad.reason());
                    }
                }
            }
            producer.flush();
            compressing.flush();

            final Map<String, Prediction> predictions = new HashMap<>();
            final List<String> duplicates = new ArrayList<>();
            await().atMost(TIMEOUT).until(() -> {
                readPredictions(reader, predictions, duplicates);
                return predictions.keySet().containsAll(expectedIds);
            });
            readPredictions(reader, predictions, duplicates);
            assertThat(duplicates).isEmpty();
            assertThat(predictions.keySet()).containsExactlyInAnyOrderElementsOf(expectedIds);
            final long y2k = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();
            assertThat(predictions.values()).filteredOn(p -> p.id().startsWith(PREFIX + "y2k"))
                    .isNotEmpty().allMatch(p -> p.eventTime() == y2k);

            final Map<String, String> reasons = new HashMap<>();
            try (KafkaConsumer<byte[], byte[]> letters = byteConsumer(Topics.DEAD_LETTERS)) {
                await().atMost(TIMEOUT).until(() -> {
                    for (final ConsumerRecord<byte[], byte[]> letter : letters.poll(Duration.ofMillis(200))) {
                        final String key = letter.key() == null ? null : new String(letter.key(), StandardCharsets.UTF_8);
                        if (key != null && expectedReasons.containsKey(key)) {
                            assertThat(reasons.put(key, header(letter, DeadLetters.REASON_HEADER)))
                                    .as("one dead letter for %s", key).isNull();
                        }
                    }
                    return reasons.size() == expectedReasons.size();
                });
            }
            assertThat(reasons).isEqualTo(expectedReasons);

            // Every labeled image of this test's window counts once, per class and for all classes.
            final Map<String, ClassAccuracy> rows = new HashMap<>();
            try (KafkaConsumer<String, String> accuracy = consumer(Topics.ACCURACY)) {
                await().atMost(TIMEOUT).until(() -> {
                    accuracy.poll(Duration.ofMillis(200)).forEach(record -> {
                        final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(record.topic(),
                                record.value().getBytes(StandardCharsets.UTF_8));
                        if (row.windowStart() <= EVENT_TIME.toEpochMilli() && EVENT_TIME.toEpochMilli() < row.windowEnd()) {
                            rows.put(record.key(), row);
                        }
                    });
                    final long perClass = rows.entrySet().stream()
                            .filter(entry -> !entry.getKey().equals(ClassAccuracy.ALL_CLASSES))
                            .mapToLong(entry -> entry.getValue().total()).sum();
                    final ClassAccuracy all = rows.get(ClassAccuracy.ALL_CLASSES);
                    return all != null && all.total() == VALID && perClass == VALID;
                });
            }
            assertThat(get(http, service, "/api/summary")).startsWith("200 ");
            watcher.shutdownNow();
            assertThat(healthAnswers).isNotEmpty().allMatch(answer -> answer.startsWith("200 "));
            assertThat(service.state()).isEqualTo(org.apache.kafka.streams.KafkaStreams.State.RUNNING);
        } finally {
            watcher.shutdownNow();
        }
    }

    /** Each kind of hostile record; "@ID@" in a value becomes its key. A null reason: it must be classified. */
    private static List<Hostile> hostile() {
        final long now = System.currentTimeMillis();
        final String blank = json(DigitImage.ofPixels("@ID@", new int[784], null, null, null));
        return List.of(
                new Hostile(Topics.IMAGES, PREFIX + "plus2h-", withTimestamp(now + Duration.ofHours(2).toMillis()),
                        null, false, "bad-timestamp"),
                new Hostile(Topics.IMAGES, PREFIX + "y9999-", withTimestamp(253_402_300_799_000L), null, false,
                        "bad-timestamp"),
                new Hostile(Topics.IMAGES, PREFIX + "micros-", withTimestamp(now * 1000), null, false,
                        "bad-timestamp"),
                new Hostile(Topics.IMAGES, PREFIX + "y2k-", json(DigitImage.ofPixels("@ID@", TestFixtures.pixels(3),
                        TestFixtures.mnist().test().label(3), Instant.parse("2000-01-01T00:00:00Z").toEpochMilli(),
                        null)), null, false, null),
                new Hostile(Topics.IMAGES, PREFIX + "record-ahead-", blank,
                        now + Duration.ofMinutes(30).toMillis(), false, null),
                new Hostile(Topics.IMAGES, PREFIX + "big-", "{\"id\":\"@ID@\",\"png\":\"" + "A".repeat(1_100_000)
                        + "\"}", null, true, "too-large"),
                new Hostile(Topics.IMAGES, PREFIX + "giant-png-", json(DigitImage.ofPng("@ID@",
                        PngBombs.declaring(100_000, 100_000), null, null, null)), null, false, "bad-png"),
                new Hostile(Topics.IMAGES, PREFIX + "inflating-png-", json(DigitImage.ofPng("@ID@",
                        PngBombs.inflating(ImageDecoder.MAX_PNG_SIDE), null, null, null)), null, false, null),
                new Hostile(Topics.IMAGES, PREFIX + "text-bomb-png-", json(DigitImage.ofPng("@ID@",
                        PngBombs.withTextBomb(500), null, null, null)), null, false, null),
                new Hostile(Topics.IMAGES, PREFIX + "null-", null, null, false, "invalid-json"),
                new Hostile(Topics.IMAGES, PREFIX + "garbage-", "\u0000\u00ff{{[", null, false, "invalid-json"),
                new Hostile(Topics.IMAGES, PREFIX + "numeric-id-", "{\"id\":12,\"pixels\":[]}", null, false,
                        "wrong-type"),
                new Hostile(Topics.LABELS, PREFIX + "label-garbage-", "not json", null, false, "invalid-json"),
                new Hostile(Topics.LABELS, PREFIX + "label-null-", null, null, false, "invalid-json"),
                new Hostile(Topics.LABELS, PREFIX + "label-key-", "{\"id\":\"someone-else\",\"label\":3}", null,
                        false, "key-mismatch"));
    }

    private static String withTimestamp(final long timestamp) {
        return json(DigitImage.ofPixels("@ID@", new int[784], 1, timestamp, null));
    }

    private static void readPredictions(final KafkaConsumer<String, String> reader, final Map<String, Prediction> seen,
            final List<String> duplicates) {
        drainPredictions(reader, id -> id.startsWith("h") && id.length() == 5 || id.startsWith(PREFIX), seen,
                duplicates);
    }

    /** "status body" of /health, or the failure to get one. */
    private static String health(final HttpClient http, final StreamService service) {
        return get(http, service, "/health");
    }

    private static String get(final HttpClient http, final StreamService service, final String path) {
        try {
            final HttpResponse<String> answer = http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + service.httpPort() + path)).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return answer.statusCode() + " " + answer.body();
        } catch (final Exception e) {
            return "failed " + e;
        }
    }

    private static String header(final ConsumerRecord<byte[], byte[]> record, final String name) {
        final var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static String json(final Object message) {
        return TestFixtures.json(message);
    }
}
