package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.ModelMetadata;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DecodedImage;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.TestFixtures;

class DigitStreamTopologyTest {

    private static final int BATCH = 4;
    private static final Duration WAIT = Duration.ofMillis(50);
    private static final Duration JOIN_WINDOW = Duration.ofMinutes(2);
    private static final Duration ACCURACY_WINDOW = Duration.ofMinutes(1);
    private static final int MAX_IMAGE_BYTES = 20_000;
    private static final int MAX_PENDING_JOINS = 50;
    private static final Path INVALID_EXAMPLES = Path.of("../schemas/json/examples/invalid");
    private static final Instant START = Instant.parse("2026-11-24T10:00:00Z");

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    private ClassifierPool classifiers;
    private StreamMetrics metrics;
    private TestInputTopic<String, String> images;
    private TestInputTopic<String, String> labels;
    private TestOutputTopic<String, Prediction> predictions;
    private TestOutputTopic<String, ClassAccuracy> accuracy;
    private TestOutputTopic<byte[], byte[]> deadLetters;

    /** Batches are waited for as they are handed over, so what a test reads does not depend on timing. */
    @BeforeEach
    void startDriver() {
        startDriver(false);
    }

    private void startDriver(final boolean overlapInference) {
        metrics = new StreamMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        final TopologySettings settings = new TopologySettings(BATCH, WAIT, JOIN_WINDOW, ACCURACY_WINDOW,
                ACCURACY_WINDOW, JOIN_WINDOW, WAIT, MAX_IMAGE_BYTES, overlapInference, null,
                TopologySettings.DEFAULT_MAX_CLOCK_SKEW, MAX_PENDING_JOINS);
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.putAll(DigitStreamTopology.errorHandling(metrics::deadLetter));
        classifiers = new ClassifierPool(TestFixtures.classifier());
        driver = new TopologyTestDriver(DigitStreamTopology.buildTopology(new StreamsBuilder(), settings,
                classifiers, metrics, ClassifiedImages.NONE), props, START);
        images = driver.createInputTopic(Topics.IMAGES, new StringSerializer(), new StringSerializer(), START,
                Duration.ofMillis(10));
        labels = driver.createInputTopic(Topics.LABELS, new StringSerializer(), new StringSerializer(), START,
                Duration.ofMillis(10));
        predictions = driver.createOutputTopic(Topics.PREDICTIONS, new StringDeserializer(),
                JsonSerde.serdeFor(Prediction.class));
        accuracy = driver.createOutputTopic(Topics.ACCURACY, new StringDeserializer(),
                JsonSerde.serdeFor(ClassAccuracy.class));
        deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
        classifiers.close();
    }

    @Test
    void classifiesInBatchesAndForwardsPredictionsInInputOrder() {
        final long before = System.currentTimeMillis();
        for (int i = 0; i < 10; i++) {
            images.pipeInput("img-" + i, json(DigitImage.ofPixels("img-" + i, TestFixtures.pixels(i),
                    TestFixtures.mnist().test().label(i), null, "test")));
        }

        final List<Prediction> firstTwoBatches = predictions.readValuesToList();
        driver.advanceWallClockTime(WAIT);
        final List<Prediction> flushedByPunctuator = predictions.readValuesToList();

        assertThat(firstTwoBatches).extracting(Prediction::id)
                .containsExactly("img-0", "img-1", "img-2", "img-3", "img-4", "img-5", "img-6", "img-7");
        assertThat(flushedByPunctuator).extracting(Prediction::id).containsExactly("img-8", "img-9");
        final Prediction first = firstTwoBatches.get(0);
        assertThat(first.modelVersion()).isEqualTo(TestFixtures.MODEL_VERSION);
        assertThat(first.label()).isEqualTo(7);
        assertThat(first.correct()).isEqualTo(first.predicted() == 7);
        assertThat(first.probabilities()).hasSize(10);
        assertThat(first.confidence()).isEqualTo(first.probabilities()[first.predicted()]);
        assertThat(first.eventTime()).isEqualTo(START.toEpochMilli());
        // When the prediction was made by the clock, not by the driver's simulated wall clock.
        assertThat(first.processingTime()).isBetween(before, System.currentTimeMillis());
        assertThat(metrics.registry().get("digits.inference.batch.size").summary().count()).isEqualTo(3);
        for (final String stage : List.of("until-read", "batching", "inference")) {
            assertThat(metrics.registry().get("digits.latency.stage").tag("stage", stage).timer().count())
                    .as(stage).isEqualTo(10);
        }
        for (final String part : List.of("queued", "collected")) {
            assertThat(metrics.registry().get("digits.inference.handover").tag("part", part).timer().count())
                    .as(part).isEqualTo(3);
        }
    }

    @Test
    void logsOnlyTheBufferedImagesThatOutliveACommit() {
        final TestOutputTopic<Bytes, byte[]> changelog = driver.createOutputTopic(
                "topology-test-" + BatchingClassifier.BUFFER_STORE + "-changelog",
                Serdes.Bytes().deserializer(), new ByteArrayDeserializer());
        // The driver commits after each record: the batch's first images wait in the buffer through
        // a commit, its last is put, classified and deleted while the driver handles that one record.
        for (int i = 0; i < BATCH; i++) {
            images.pipeInput("img-" + i, json(DigitImage.ofPixels("img-" + i, TestFixtures.pixels(i), null, null,
                    "test")));
        }

        assertThat(predictions.readValuesToList()).hasSize(BATCH);
        final List<TestRecord<Bytes, byte[]>> logged = changelog.readRecordsToList();
        final List<Long> puts = logged.stream().filter(record -> record.value() != null)
                .map(record -> SequenceKeys.sequence(record.key())).toList();
        final List<Long> tombstones = logged.stream().filter(record -> record.value() == null)
                .map(record -> SequenceKeys.sequence(record.key())).toList();
        assertThat(puts).containsExactly(0L, 1L, 2L);
        assertThat(tombstones).containsExactlyElementsOf(puts);
    }

    @Test
    void withOverlapABatchIsForwardedOnceDoneAndTheOrderHolds() throws InterruptedException {
        closeDriver();
        startDriver(true);
        for (int i = 0; i < 10; i++) {
            images.pipeInput("img-" + i, json(DigitImage.ofPixels("img-" + i, TestFixtures.pixels(i), null, null,
                    "test")));
        }
        // Two full batches are handed over; whatever of them is done has been forwarded.
        final List<String> beforeTheWait = predictions.readValuesToList().stream().map(Prediction::id).toList();
        final List<String> all = new ArrayList<>(beforeTheWait);
        for (int check = 0; check < 500 && all.size() < 10; check++) {
            Thread.sleep(2);
            driver.advanceWallClockTime(WAIT.dividedBy(4));
            predictions.readValuesToList().forEach(prediction -> all.add(prediction.id()));
        }

        assertThat(beforeTheWait).hasSizeLessThanOrEqualTo(8).doesNotContain("img-8", "img-9");
        assertThat(all).containsExactly("img-0", "img-1", "img-2", "img-3", "img-4", "img-5", "img-6", "img-7",
                "img-8", "img-9");
        assertThat(metrics.registry().get("digits.inference.batch.size").summary().count()).isEqualTo(3);
        try (var left = driver.<Bytes, DecodedImage>getKeyValueStore(BatchingClassifier.BUFFER_STORE).all()) {
            assertThat(left.hasNext()).as("every forwarded image left the buffer").isFalse();
        }
    }

    @Test
    void pixelsBase64AndPngDecodeToTheSameKindOfPrediction() throws Exception {
        final int[] pixels = TestFixtures.pixels(0);
        final byte[] bytes = new byte[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            bytes[i] = (byte) pixels[i];
        }
        final String png = JsonSerde.MAPPER.readTree(Files.readString(
                Path.of("../schemas/json/examples/digit-image-png.json"))).get("png").asText();

        images.pipeInput("a", json(DigitImage.ofPixels("a", pixels, null, null, null)));
        images.pipeInput("b", json(new DigitImage("b", null, Base64.getEncoder().encodeToString(bytes), null, null,
                null, null)));
        images.pipeInput("c", json(DigitImage.ofPng("c", png, 1, null, null)));
        driver.advanceWallClockTime(WAIT);

        final Map<String, Prediction> byId = predictions.readKeyValuesToMap();
        assertThat(byId.get("b").probabilities()).containsExactly(byId.get("a").probabilities());
        assertThat(byId.get("a").predicted()).isEqualTo(7);
        assertThat(byId.get("c").predicted()).as("the example PNG is a dark 1 on white paper").isEqualTo(1);
    }

    static List<Object[]> poison() {
        final String good = json(DigitImage.ofPixels("x", new int[784], null, null, null));
        final int[] loud = new int[784];
        loud[5] = 256;
        return List.of(
                new Object[] {"x", "{not json", "invalid-json", DeadLetters.DESERIALIZE_STAGE},
                new Object[] {"x", "{\"id\":\"x\",\"pixels\":[" + "1.5,".repeat(783) + "1.5]}", "wrong-type",
                    DeadLetters.DESERIALIZE_STAGE},
                new Object[] {"x", "{\"id\":\"x\",\"png\":\"" + "A".repeat(MAX_IMAGE_BYTES) + "\"}", "too-large",
                    DeadLetters.DESERIALIZE_STAGE},
                new Object[] {"x", good.replace("\"id\":\"x\",", ""), "missing-id", DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", "{\"id\":\"x\"}", "no-image", DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", good.replace("\"id\":\"x\",", "\"id\":\"x\",\"png\":\"iVBORw0KGgo=\","),
                    "several-images", DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(DigitImage.ofPixels("x", new int[783], null, null, null)), "wrong-size",
                    DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(new DigitImage("x", null, "AAAA", null, null, null, null)), "wrong-size",
                    DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(DigitImage.ofPixels("x", loud, null, null, null)), "pixel-out-of-range",
                    DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(new DigitImage("x", null, "not*base64!", null, null, null, null)),
                    "bad-base64", DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(DigitImage.ofPng("x", "aGVsbG8gd29ybGQ=", null, null, null)), "bad-png",
                    DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(DigitImage.ofPixels("x", new int[784], 12, null, null)), "bad-label",
                    DigitStreamTopology.DECODE_STAGE},
                new Object[] {"x", json(DigitImage.ofPixels("x", new int[784], null, -5L, null)), "bad-timestamp",
                    DigitStreamTopology.DECODE_STAGE},
                new Object[] {"other", good, "key-mismatch", DigitStreamTopology.DECODE_STAGE});
    }

    @ParameterizedTest(name = "{2}: {0}")
    @MethodSource("poison")
    void routesEachKindOfBadImageToTheDeadLetterTopicAndCarriesOn(final String key, final String value,
            final String reason, final String stage) {
        images.pipeInput(key, value);
        images.pipeInput("good", json(DigitImage.ofPixels("good", TestFixtures.pixels(1), null, null, null)));
        driver.advanceWallClockTime(WAIT);

        final List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
        assertThat(letters).hasSize(1);
        final TestRecord<byte[], byte[]> letter = letters.get(0);
        assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo(value);
        assertThat(new String(letter.key(), StandardCharsets.UTF_8)).isEqualTo(key);
        assertThat(header(letter.headers(), DeadLetters.REASON_HEADER)).isEqualTo(reason);
        assertThat(header(letter.headers(), DeadLetters.STAGE_HEADER)).isEqualTo(stage);
        assertThat(header(letter.headers(), "__streams.errors.topic")).isEqualTo(Topics.IMAGES);
        assertThat(header(letter.headers(), "__streams.errors.offset")).isEqualTo("0");
        assertThat(header(letter.headers(), "__streams.errors.message")).isNotBlank();
        assertThat(predictions.readValuesToList()).extracting(Prediction::id).containsExactly("good");
        assertThat(metrics.registry().get("digits.dead.letters").tag("reason", reason).counter().count())
                .isEqualTo(1);
    }

    @Test
    void routesBadLateLabelsToTheDeadLetterTopicAndJoinsTheGoodOnes() {
        labels.pipeInput("x", json(new DigitLabel("x", 12)));
        labels.pipeInput("y", "{\"id\":\"y\",\"label\":\"seven\"}");
        labels.pipeInput("other", json(new DigitLabel("z", 3)));
        labels.pipeInput("tombstone", (String) null);
        labels.pipeInput("l".repeat(201), json(new DigitLabel("l".repeat(201), 3)));
        labels.pipeInput("n", "{\"id\":\"n\"}");
        labels.pipeInput("good", json(new DigitLabel("good", 7)));
        images.pipeInput("good", json(DigitImage.ofPixels("good", TestFixtures.pixels(0), null, null, null)));
        driver.advanceWallClockTime(WAIT);
        driver.advanceWallClockTime(WAIT);

        final List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
        assertThat(letters).extracting(letter -> header(letter.headers(), DeadLetters.REASON_HEADER))
                .containsExactly("bad-label", "wrong-type", "key-mismatch", "invalid-json", "bad-id", "bad-label");
        assertThat(letters).extracting(letter -> header(letter.headers(), "__streams.errors.topic"))
                .containsOnly(Topics.LABELS);
        assertThat(letters).extracting(letter -> header(letter.headers(), DeadLetters.STAGE_HEADER))
                .containsOnly(DeadLetters.DESERIALIZE_STAGE, DigitStreamTopology.LABEL_CHECK_STAGE);
        assertThat(latestRows(accuracy.readValuesToList()).get("7").total()).isEqualTo(1);
    }

    @Test
    void boundsTheLabelsWaitingForImagesAndDeadLettersTheRest() {
        for (int i = 0; i < MAX_PENDING_JOINS + 10; i++) {
            labels.pipeInput("unknown-" + i, json(new DigitLabel("unknown-" + i, i % 10)));
        }
        driver.advanceWallClockTime(WAIT);

        assertThat(deadLetters.readRecordsToList()).hasSize(10).extracting(letter -> header(letter.headers(),
                DeadLetters.REASON_HEADER)).containsOnly("too-many-pending-labels");
        assertThat(driver.getKeyValueStore(LabelJoiner.AWAITING_PREDICTION_STORE).approximateNumEntries())
                .isEqualTo(MAX_PENDING_JOINS);
        driver.advanceWallClockTime(JOIN_WINDOW.plusSeconds(30));
        assertThat(metrics.registry().get("digits.labels.unmatched").counter().count()).isEqualTo(MAX_PENDING_JOINS);
        assertThat(driver.getKeyValueStore(LabelJoiner.AWAITING_PREDICTION_STORE).approximateNumEntries()).isZero();
    }

    static List<String> invalidExamples() throws java.io.IOException {
        try (var files = Files.list(INVALID_EXAMPLES)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    /** The schemas' contract test checks that the schema refuses the same files. */
    @ParameterizedTest
    @MethodSource("invalidExamples")
    void refusesEachInvalidExampleWithTheReasonItIsNamedFor(final String file) throws java.io.IOException {
        images.pipeInput("img-1", Files.readString(INVALID_EXAMPLES.resolve(file)).strip());
        images.pipeInput("good", json(DigitImage.ofPixels("good", TestFixtures.pixels(1), null, null, null)));
        driver.advanceWallClockTime(WAIT);

        final List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
        assertThat(letters).hasSize(1);
        assertThat(header(letters.get(0).headers(), DeadLetters.REASON_HEADER))
                .isEqualTo(file.substring(0, file.indexOf('.')));
        assertThat(predictions.readValuesToList()).extracting(Prediction::id).containsExactly("good");
    }

    @Test
    void deadLettersImagesDatedAheadOfTheClockAndClassifiesTheRestOfThePartition() {
        final long now = START.toEpochMilli();
        final long[] future = {now + Duration.ofHours(2).toMillis(), 253_402_300_799_000L, now * 1000};
        for (int i = 0; i < future.length; i++) {
            images.pipeInput("future-" + i, json(DigitImage.ofPixels("future-" + i, TestFixtures.pixels(i), 7,
                    future[i], null)));
        }
        final long skewed = now + Duration.ofMinutes(1).toMillis();
        images.pipeInput("skewed", json(DigitImage.ofPixels("skewed", TestFixtures.pixels(0), 7, skewed, null)));
        images.pipeInput("after", json(DigitImage.ofPixels("after", TestFixtures.pixels(1), 2, null, null)));
        driver.advanceWallClockTime(WAIT);
        driver.advanceWallClockTime(WAIT);

        final List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
        assertThat(letters).hasSize(3).extracting(letter -> header(letter.headers(), DeadLetters.REASON_HEADER))
                .containsOnly("bad-timestamp");
        assertThat(header(letters.get(0).headers(), "__streams.errors.message")).contains("ahead of the app's clock");
        final List<TestRecord<String, Prediction>> predicted = predictions.readRecordsToList();
        assertThat(predicted).extracting(TestRecord::key).containsExactly("skewed", "after");
        // The prediction keeps the producer's event time, but its record is not dated ahead of the clock.
        assertThat(predicted.get(0).value().eventTime()).isEqualTo(skewed);
        assertThat(predicted.get(0).timestamp()).isLessThan(skewed);
        assertThat(latestRows(accuracy.readValuesToList()).get(ClassAccuracy.ALL_CLASSES).total()).isEqualTo(2);
    }

    @Test
    void countsImagesDatedLongAgoInTheOldestOpenWindow() {
        images.pipeInput("epoch", json(DigitImage.ofPixels("epoch", TestFixtures.pixels(0), 7, 0L, null)));
        images.pipeInput("y2k", json(DigitImage.ofPixels("y2k", TestFixtures.pixels(1), 2, 946_684_800_000L, null)));
        images.pipeInput("late", json(DigitImage.ofPixels("late", TestFixtures.pixels(2), null, 1L, null)));
        driver.advanceWallClockTime(WAIT);
        labels.pipeInput("late", json(new DigitLabel("late", 1)));
        driver.advanceWallClockTime(WAIT);

        assertThat(predictions.readValuesToList()).extracting(Prediction::eventTime).containsExactly(0L,
                946_684_800_000L, 1L);
        final Map<String, ClassAccuracy> rows = latestRows(accuracy.readValuesToList());
        assertThat(rows.get(ClassAccuracy.ALL_CLASSES).total()).isEqualTo(3);
        assertThat(rows.get(ClassAccuracy.ALL_CLASSES).windowEnd() + JOIN_WINDOW.toMillis())
                .as("an open window: its end plus the grace is still ahead").isGreaterThan(START.toEpochMilli());
    }

    @Test
    void aDeadLetterTooLargeToTravelKeepsAPrefixItsSizeAndDigest() throws Exception {
        final String huge = "{\"id\":\"x\",\"png\":\"" + "A".repeat(1_100_000) + "\"}";
        images.pipeInput("k".repeat(200_000), huge);
        images.pipeInput("good", json(DigitImage.ofPixels("good", TestFixtures.pixels(1), null, null, null)));
        driver.advanceWallClockTime(WAIT);

        final TestRecord<byte[], byte[]> letter = deadLetters.readRecord();
        final byte[] value = huge.getBytes(StandardCharsets.UTF_8);
        int size = letter.key().length + letter.value().length;
        for (final Header h : letter.headers()) {
            size += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        assertThat(size).isLessThanOrEqualTo(DeadLetters.MAX_BYTES);
        assertThat(header(letter.headers(), DeadLetters.REASON_HEADER)).isEqualTo("too-large");
        assertThat(header(letter.headers(), DeadLetters.TRUNCATED_HEADER)).isEqualTo("key,value");
        assertThat(header(letter.headers(), DeadLetters.ORIGINAL_VALUE_SIZE_HEADER))
                .isEqualTo(Integer.toString(value.length));
        assertThat(header(letter.headers(), DeadLetters.ORIGINAL_VALUE_SHA256_HEADER)).isEqualTo(
                java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(value)));
        assertThat(letter.value()).isEqualTo(java.util.Arrays.copyOf(value, DeadLetters.PREFIX_BYTES));
        assertThat(header(letter.headers(), "__streams.errors.message")).hasSizeLessThan(DeadLetters.MAX_TEXT + 20);
        assertThat(predictions.readValuesToList()).extracting(Prediction::id).containsExactly("good");
    }

    @Test
    void joinsLateLabelsWhicheverArrivesFirst() {
        images.pipeInput("early-image", json(DigitImage.ofPixels("early-image", TestFixtures.pixels(0), null, null,
                null)));
        driver.advanceWallClockTime(WAIT);
        labels.pipeInput("early-image", json(new DigitLabel("early-image", 7)));
        labels.pipeInput("late-image", json(new DigitLabel("late-image", 2)));
        images.pipeInput("late-image", json(DigitImage.ofPixels("late-image", TestFixtures.pixels(1), null, null,
                null)));
        driver.advanceWallClockTime(WAIT);
        // The accuracy counts leave within a flush interval of the last one.
        driver.advanceWallClockTime(WAIT);

        final Map<String, Prediction> predicted = predictions.readKeyValuesToMap();
        final Map<String, ClassAccuracy> rows = latestRows(accuracy.readValuesToList());
        assertThat(rows.get("7").total()).isEqualTo(1);
        assertThat(rows.get("7").correct()).isEqualTo(predicted.get("early-image").predicted() == 7 ? 1 : 0);
        assertThat(rows.get("2").total()).isEqualTo(1);
        assertThat(rows.get("2").predictedCounts()[predicted.get("late-image").predicted()]).isEqualTo(1);
        assertThat(rows.get(ClassAccuracy.ALL_CLASSES).total()).isEqualTo(2);
    }

    @Test
    void countsPredictionsAndLabelsThatNeverMeet() {
        images.pipeInput("never-labeled", json(DigitImage.ofPixels("never-labeled", TestFixtures.pixels(0), null,
                null, null)));
        labels.pipeInput("never-seen", json(new DigitLabel("never-seen", 3)));
        driver.advanceWallClockTime(WAIT);
        driver.advanceWallClockTime(JOIN_WINDOW.dividedBy(8));

        assertThat(gauge("digits.predictions.awaiting.label")).isEqualTo(1);
        assertThat(gauge("digits.labels.awaiting.prediction")).isEqualTo(1);

        driver.advanceWallClockTime(JOIN_WINDOW.plusSeconds(30));

        assertThat(metrics.registry().get("digits.predictions.unlabeled").counter().count()).isEqualTo(1);
        assertThat(metrics.registry().get("digits.labels.unmatched").counter().count()).isEqualTo(1);
        assertThat(gauge("digits.predictions.awaiting.label")).isZero();
        assertThat(accuracy.isEmpty()).isTrue();
    }

    @Test
    void aggregatesAccuracyPerTrueClassAndWindow() {
        // The images are dated up to 80 s after START: let the app's clock pass them first.
        driver.advanceWallClockTime(Duration.ofSeconds(90));
        final List<String> ids = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            // 20 images in the first one-minute window, 20 in the second.
            final long eventTime = START.toEpochMilli() + (i < 20 ? 1_000L * i : 60_000L + 1_000L * i);
            ids.add("img-" + i);
            images.pipeInput("img-" + i, json(DigitImage.ofPixels("img-" + i, TestFixtures.pixels(i),
                    TestFixtures.mnist().test().label(i), eventTime, null)));
        }
        driver.advanceWallClockTime(WAIT);

        final List<Prediction> predicted = predictions.readValuesToList();
        final Map<String, ClassAccuracy> rows = latestRows(accuracy.readValuesToList());
        final Map<String, long[]> expected = new HashMap<>();
        for (final Prediction p : predicted) {
            final long windowStart = p.eventTime() - p.eventTime() % ACCURACY_WINDOW.toMillis();
            for (final String trueClass : List.of(Integer.toString(p.label()), ClassAccuracy.ALL_CLASSES)) {
                final long[] counts = expected.computeIfAbsent(trueClass + "@" + windowStart, k -> new long[2]);
                counts[0]++;
                counts[1] += p.correct() ? 1 : 0;
            }
        }
        assertThat(predicted).hasSize(40);
        assertThat(rows.keySet()).isEqualTo(expected.keySet());
        expected.forEach((key, counts) -> {
            final ClassAccuracy row = rows.get(key);
            assertThat(row.total()).as(key).isEqualTo(counts[0]);
            assertThat(row.correct()).as(key).isEqualTo(counts[1]);
            assertThat(row.accuracy()).as(key).isEqualTo((double) counts[1] / counts[0]);
            assertThat(row.windowEnd() - row.windowStart()).isEqualTo(ACCURACY_WINDOW.toMillis());
            assertThat(java.util.Arrays.stream(row.predictedCounts()).sum()).isEqualTo(counts[0]);
            assertThat(row.modelVersion()).isEqualTo(TestFixtures.MODEL_VERSION);
        });
        assertThat(rows.get(ClassAccuracy.ALL_CLASSES + "@" + START.toEpochMilli()).total()).isEqualTo(20);
    }

    @Test
    void aShadowModelClassifiesTheSameImagesIntoItsOwnTopicAndAccuracyRows() {
        final String shadowVersion = "shadow-model";
        final DigitClassifier live = TestFixtures.classifier();
        // The same weights under another version, so both models' rows are known exactly.
        classifiers.serve(live, new DigitClassifier(TestFixtures.network(), new ModelMetadata(shadowVersion,
                Instant.now(), null, null, Map.of(), Map.of(), 1, 1, Map.of())));
        final TestOutputTopic<String, Prediction> shadow = driver.createOutputTopic(Topics.PREDICTIONS_SHADOW,
                new StringDeserializer(), JsonSerde.serdeFor(Prediction.class));
        for (int i = 0; i < 12; i++) {
            final boolean lateLabel = i % 3 == 0;
            images.pipeInput("s" + i, json(DigitImage.ofPixels("s" + i, TestFixtures.pixels(i),
                    lateLabel ? null : TestFixtures.mnist().test().label(i), null, null)));
            if (lateLabel) {
                labels.pipeInput("s" + i, json(new DigitLabel("s" + i, TestFixtures.mnist().test().label(i))));
            }
        }
        driver.advanceWallClockTime(WAIT);
        driver.advanceWallClockTime(WAIT);

        final Map<String, Prediction> livePredictions = predictions.readKeyValuesToMap();
        final Map<String, Prediction> shadowPredictions = shadow.readKeyValuesToMap();
        assertThat(livePredictions).hasSize(12).allSatisfy((id, p) ->
                assertThat(p.modelVersion()).isEqualTo(TestFixtures.MODEL_VERSION));
        assertThat(shadowPredictions).hasSize(12).allSatisfy((id, p) -> {
            assertThat(p.modelVersion()).isEqualTo(shadowVersion);
            assertThat(p.predicted()).isEqualTo(livePredictions.get(id).predicted());
        });
        final Map<String, ClassAccuracy> all = new HashMap<>();
        accuracy.readValuesToList().stream().filter(row -> row.trueClass().equals(ClassAccuracy.ALL_CLASSES))
                .forEach(row -> all.put(row.modelVersion(), row));
        assertThat(all.keySet()).containsExactlyInAnyOrder(TestFixtures.MODEL_VERSION, shadowVersion);
        assertThat(all.values()).allSatisfy(row -> assertThat(row.total()).isEqualTo(12));
        assertThat(all.get(shadowVersion).correct()).isEqualTo(all.get(TestFixtures.MODEL_VERSION).correct());
        assertThat(metrics.registry().get("digits.shadow.agreements").counter().count()).isEqualTo(12);
    }

    /** The newest row of each class and window, keyed "class" or, when windows differ, "class@start". */
    private static Map<String, ClassAccuracy> latestRows(final List<ClassAccuracy> rows) {
        final Map<String, ClassAccuracy> byWindow = new HashMap<>();
        rows.forEach(row -> byWindow.put(row.trueClass() + "@" + row.windowStart(), row));
        final long windows = byWindow.values().stream().mapToLong(ClassAccuracy::windowStart).distinct().count();
        if (windows > 1) {
            return byWindow;
        }
        final Map<String, ClassAccuracy> byClass = new HashMap<>();
        byWindow.values().forEach(row -> byClass.put(row.trueClass(), row));
        return byClass;
    }

    private double gauge(final String name) {
        return metrics.registry().get(name).gauge().value();
    }

    private static String header(final Headers headers, final String name) {
        final Header header = headers.lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    static String json(final Object message) {
        return TestFixtures.json(message);
    }

}
