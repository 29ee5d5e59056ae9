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

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.topology.BatchingClassifier;
import io.digitstream.stream.topology.DeadLetters;

/** The running app on a real broker with the 10,000 MNIST test images, restarted part-way. */
@ExtendWith(KafkaClusterExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamServiceTest {

    /**
     * Every image of this test has this event time: two days back, so its accuracy window holds no
     * other test's images (theirs are stamped now), and within the grace set below.
     */
    private static final Instant EVENT_TIME = Instant.now().minus(Duration.ofDays(2));
    private static final Duration TIMEOUT = Duration.ofMinutes(4);
    /** How long the idle app is watched for commits. */
    private static final Duration IDLE_CHECK = Duration.ofSeconds(3);
    /** Every tenth image carries no label; its label comes on digits.labels, some before the image. */
    private static final int LATE_LABEL_EVERY = 10;

    @TempDir
    static Path dir;

    /** The app as restarted part-way; it runs for all the tests of this class. */
    private static StreamService service;
    private static Map<String, String> settings;
    private static final Map<String, Prediction> PREDICTIONS = new HashMap<>();
    private static final List<String> DUPLICATES = new ArrayList<>();
    private static int beforeRestart;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /**
     * Sends the 10,000 test images (a tenth with late labels, some of those before their image)
     * with a poison record every thousand, stops the app gracefully part-way and starts it again on
     * the same state, and reads every prediction the two runs committed.
     */
    @BeforeAll
    static void classifyTheTestSetAcrossARestart() throws Exception {
        settings = TestFixtures.appSettings(dir, "it");
        // One window for the whole run, still open when newer images have moved stream time on.
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_GRACE_MS, Long.toString(Duration.ofDays(7).toMillis()));
        final AppConfig config = AppConfig.load(null, Map.of(), settings);
        final MnistDataset test = TestFixtures.mnist().test();
        final List<String[]> poison = poison();

        service = StreamService.start(config);
        // Read from the predictions' end as it is now: other tests' predictions on the shared broker
        // would hold this reader back, and the restart below would come late instead of part-way.
        try (KafkaProducer<String, String> producer = producer();
                KafkaConsumer<String, String> reader = consumerAtEnd(Topics.PREDICTIONS)) {
            for (int i = 0; i < test.count(); i++) {
                final String id = String.format("t%05d", i);
                final boolean lateLabel = i % LATE_LABEL_EVERY == 0;
                if (lateLabel && i % (2 * LATE_LABEL_EVERY) == 0) {
                    producer.send(new ProducerRecord<>(Topics.LABELS, id, json(new DigitLabel(id, test.label(i)))));
                }
                producer.send(new ProducerRecord<>(Topics.IMAGES, id, json(DigitImage.ofPixels(id,
                        TestFixtures.pixels(i), lateLabel ? null : test.label(i), EVENT_TIME.toEpochMilli(),
                        "mnist-test"))));
                if (lateLabel && i % (2 * LATE_LABEL_EVERY) != 0) {
                    producer.send(new ProducerRecord<>(Topics.LABELS, id, json(new DigitLabel(id, test.label(i)))));
                }
                if (i % 1000 == 500) {
                    final String[] bad = poison.get((i / 1000) % poison.size());
                    producer.send(new ProducerRecord<>(Topics.IMAGES, bad[0], bad[1]));
                }
            }
            producer.flush();

            await().atMost(TIMEOUT).until(() -> poll(reader, PREDICTIONS, DUPLICATES) >= 3_000);
            service.close();
            // What the first run committed, to show the restart came part-way.
            do {
                beforeRestart = PREDICTIONS.size();
            } while (poll(reader, PREDICTIONS, DUPLICATES) > beforeRestart);
            service = StreamService.start(config);
            await().atMost(TIMEOUT).until(() -> poll(reader, PREDICTIONS, DUPLICATES) >= test.count());
            poll(reader, PREDICTIONS, DUPLICATES);
        }
    }

    @AfterAll
    static void stopTheApp() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    @Order(1)
    void predictsEveryImageExactlyOnceAcrossTheRestartAsTheModelDoesOffline() {
        final MnistDataset test = TestFixtures.mnist().test();
        assertThat(beforeRestart).as("predictions before the restart").isLessThan(test.count() - 1_000);
        assertThat(DUPLICATES).isEmpty();
        assertThat(PREDICTIONS).hasSize(test.count());
        final int[] offline = TestFixtures.offlinePredictions(TestFixtures.classifier(), test);
        for (int i = 0; i < test.count(); i++) {
            final Prediction p = PREDICTIONS.get(String.format("t%05d", i));
            assertThat(p.predicted()).as("prediction of test image %d", i).isEqualTo(offline[i]);
            assertThat(p.modelVersion()).isEqualTo(TestFixtures.MODEL_VERSION);
        }
    }

    @Test
    @Order(2)
    void countsEveryLabeledPredictionOnceInTheAccuracyRows() {
        final MnistDataset test = TestFixtures.mnist().test();
        long expectedCorrect = 0;
        for (int i = 0; i < test.count(); i++) {
            expectedCorrect += PREDICTIONS.get(String.format("t%05d", i)).predicted() == test.label(i) ? 1 : 0;
        }
        final Map<String, ClassAccuracy> accuracy = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = consumer(Topics.ACCURACY)) {
            await().atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> {
                    final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(record.topic(),
                            record.value().getBytes(StandardCharsets.UTF_8));
                    // Only this test's window: other tests' images on the shared broker have other times.
                    if (row.windowStart() <= EVENT_TIME.toEpochMilli() && EVENT_TIME.toEpochMilli() < row.windowEnd()) {
                        accuracy.put(record.key(), row);
                    }
                });
                final ClassAccuracy all = accuracy.get(ClassAccuracy.ALL_CLASSES);
                // The all-classes row and the per-class rows are counted by different tasks.
                final long perClass = accuracy.entrySet().stream()
                        .filter(entry -> !entry.getKey().equals(ClassAccuracy.ALL_CLASSES))
                        .mapToLong(entry -> entry.getValue().total()).sum();
                return all != null && all.total() == test.count() && perClass == test.count();
            });
        }
        assertThat(accuracy.get(ClassAccuracy.ALL_CLASSES).correct()).isEqualTo(expectedCorrect);
        long perClassTotal = 0;
        long perClassCorrect = 0;
        for (int digit = 0; digit < 10; digit++) {
            perClassTotal += accuracy.get(Integer.toString(digit)).total();
            perClassCorrect += accuracy.get(Integer.toString(digit)).correct();
        }
        assertThat(perClassTotal).isEqualTo(test.count());
        assertThat(perClassCorrect).isEqualTo(expectedCorrect);
    }

    @Test
    @Order(3)
    void deadLettersEachPoisonRecordWithItsReason() {
        final int expected = TestFixtures.mnist().test().count() / 1000;
        final List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = byteConsumer(Topics.DEAD_LETTERS)) {
            await().atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(letter -> keepOwn(letter, letters));
                return letters.size() >= expected;
            });
            consumer.poll(Duration.ofSeconds(1)).forEach(letter -> keepOwn(letter, letters));
        }
        assertThat(letters).hasSize(expected);
        assertThat(letters).extracting(letter -> new String(letter.headers()
                .lastHeader(DeadLetters.REASON_HEADER).value(), StandardCharsets.UTF_8))
                .containsAll(poison().stream().map(bad -> bad[2]).toList());
    }

    /**
     * The inference buffer's changelog: a put and then a tombstone for each image that was buffered
     * through a commit (or the restart), nothing for those put and deleted between two.
     */
    @Test
    @Order(4)
    void logsABufferedImageOnlyWhenItOutlivesACommitAndDeletesEachOneLogged() {
        final long[] putsAndTombstones = new long[2];
        try (KafkaConsumer<byte[], byte[]> consumer = byteConsumer(
                settings.get("application.id") + "-" + BatchingClassifier.BUFFER_STORE + "-changelog")) {
            await().atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(200))
                        .forEach(record -> putsAndTombstones[record.value() == null ? 1 : 0]++);
                return !consumer.assignment().isEmpty() && consumer.endOffsets(consumer.assignment()).entrySet()
                        .stream().allMatch(end -> consumer.position(end.getKey()) >= end.getValue());
            });
        }
        assertThat(putsAndTombstones[0]).as("images logged").isPositive();
        assertThat(putsAndTombstones[1]).as("tombstones").isEqualTo(putsAndTombstones[0]);
    }

    @Test
    @Order(5)
    void reportsItsHealthAndMetricsOverHttp() throws Exception {
        final HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + service.httpPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"").contains(TestFixtures.MODEL_VERSION);
        // Which of the poison the restarted app saw depends on where the restart fell: one more
        // for it to count.
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(Topics.IMAGES, "late-poison", outOfRange("late-poison"))).get();
        }
        final String[] metrics = new String[1];
        await().atMost(TIMEOUT).until(() -> {
            metrics[0] = metrics(HTTP, service);
            return metrics[0].contains("digits_dead_letters_total{reason=\"pixel-out-of-range\"}");
        });
        assertThat(metrics[0]).contains("digits_predictions_total{digit=\"7\"}")
                .contains("digits_accuracy{class=\"all\",version=\"" + TestFixtures.MODEL_VERSION + "\"}")
                .contains("digits_latency_seconds_bucket")
                .contains("kafka_stream");
    }

    /**
     * Idle now: Kafka Streams commits a task after it processed or punctuated anything, so timers
     * left running with nothing buffered would show here as ten commits a second per stream thread.
     * A few may come from the label join's sweep (every 30 s).
     */
    @Test
    @Order(6)
    void commitsNothingWhileIdle() throws Exception {
        Thread.sleep(BatchingClassifier.IDLE_BEFORE_TIMERS_STOP.plusMillis(500).toMillis());
        final double commitsWhenIdle = commits(HTTP, service);
        Thread.sleep(IDLE_CHECK.toMillis());
        assertThat(commitsWhenIdle).as("commits the app made").isPositive();
        assertThat(commits(HTTP, service) - commitsWhenIdle).as("commits while idle for %s", IDLE_CHECK)
                .isLessThanOrEqualTo(4);
    }

    /** The stream threads' commits so far, as /metrics reports them. */
    private static double commits(final HttpClient http, final StreamService service) throws Exception {
        return metrics(http, service).lines().filter(line -> line.startsWith("kafka_stream_thread_commit_total{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    private static String metrics(final HttpClient http, final StreamService service) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + service.httpPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int poll(final KafkaConsumer<String, String> reader, final Map<String, Prediction> seen,
            final List<String> duplicates) {
        return drainPredictions(reader, id -> id.matches("t\\d{5}"), seen, duplicates);
    }

    private static void keepOwn(final ConsumerRecord<byte[], byte[]> letter,
            final List<ConsumerRecord<byte[], byte[]>> letters) {
        if (letter.key() != null && new String(letter.key(), StandardCharsets.UTF_8).startsWith("bad-")) {
            letters.add(letter);
        }
    }

    /** Key, value, expected dead-letter reason. */
    private static List<String[]> poison() {
        return List.of(
                new String[] {"bad-1", "{\"id\":\"bad-1\",", "invalid-json"},
                new String[] {"bad-2", json(DigitImage.ofPixels("bad-2", new int[10], null, null, null)), "wrong-size"},
                new String[] {"bad-3", outOfRange("bad-3"), "pixel-out-of-range"},
                new String[] {"bad-4", json(DigitImage.ofPng("bad-4", "bm90IGEgcG5n", null, null, null)), "bad-png"},
                new String[] {"bad-5", json(DigitImage.ofPixels("bad-5", new int[784], 42, null, null)), "bad-label"});
    }

    /** An image event whose first pixel is 999. */
    private static String outOfRange(final String id) {
        final int[] loud = new int[DigitNetwork.PIXELS];
        loud[0] = 999;
        return json(DigitImage.ofPixels(id, loud, null, null, null));
    }

    private static String json(final Object message) {
        return TestFixtures.json(message);
    }
}
