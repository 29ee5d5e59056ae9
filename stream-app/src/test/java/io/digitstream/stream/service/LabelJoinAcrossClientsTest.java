package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.consumer;
import static io.digitstream.stream.TestClients.producer;
import static io.digitstream.stream.TestFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;

/**
 * Images and their late labels sent by different clients, each placing records its own way: the
 * Java client (murmur2 of the key), librdkafka through {@code kcat} with each of its partitioners,
 * and a client choosing the other partition itself. Every label must meet its image, counted in the
 * accuracy rows, and a label whose image never comes is counted once the join window is over.
 */
@ExtendWith(KafkaClusterExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabelJoinAcrossClientsTest {

    private static final Path KCAT = Path.of("/usr/bin/kcat");
    private static final int IMAGES_PER_PAIR = 100;
    private static final int ORPHAN_LABELS = 5;
    private static final Duration JOIN_WINDOW = Duration.ofSeconds(30);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    /**
     * Each pair of clients gets an hour-long accuracy window of its own, six days back: its row counts
     * exactly the labels that met their images. This app also reads what other tests left on the
     * shared broker, so no other test may date images in those hours (theirs are 1, 2, 3 and 5 days
     * back, or now).
     */
    private static final Instant FIRST_WINDOW = Instant.now().minus(Duration.ofDays(6)).truncatedTo(ChronoUnit.HOURS);

    /** How a client puts a record on a partition. */
    enum Client {
        JAVA(null),
        KCAT_CONSISTENT_RANDOM("consistent_random"),
        KCAT_MURMUR2_RANDOM("murmur2_random"),
        KCAT_RANDOM("random"),
        /** The Java client choosing, for each record, the partition its key's murmur2 would not. */
        OTHER_PARTITION(null);

        private final String librdkafkaPartitioner;

        Client(final String librdkafkaPartitioner) {
            this.librdkafkaPartitioner = librdkafkaPartitioner;
        }
    }

    @TempDir
    static Path dir;
    private static StreamService service;
    private static KafkaConsumer<String, String> accuracyReader;
    /** The newest total of each hour-long window's all-classes row, by window start. */
    private static final Map<Long, Long> LABELED_BY_WINDOW = new HashMap<>();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void startTheAppAndSendLabelsWithoutImages() throws InterruptedException {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "join");
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofHours(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofHours(1).toMillis()));
        settings.put(AppConfig.ACCURACY_GRACE_MS, Long.toString(Duration.ofDays(7).toMillis()));
        settings.put(AppConfig.LABEL_JOIN_WINDOW_MS, Long.toString(JOIN_WINDOW.toMillis()));
        service = StreamService.start(AppConfig.load(null, Map.of(), settings));
        service.awaitRunning(TIMEOUT);
        accuracyReader = consumer(Topics.ACCURACY);
        // Sent first, so their join window runs out while the pairs below are tried.
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < ORPHAN_LABELS; i++) {
                final String id = "orphan-" + i + "-" + service.hashCode();
                producer.send(new ProducerRecord<>(Topics.LABELS, id, json(new DigitLabel(id, 7))));
            }
        }
    }

    @AfterAll
    static void stopTheApp() {
        if (accuracyReader != null) {
            accuracyReader.close();
        }
        if (service != null) {
            service.close();
        }
    }

    static Stream<Arguments> clientPairs() {
        return Stream.of(
                Arguments.of(0, Client.JAVA, Client.KCAT_CONSISTENT_RANDOM),
                Arguments.of(1, Client.KCAT_CONSISTENT_RANDOM, Client.JAVA),
                Arguments.of(2, Client.JAVA, Client.KCAT_MURMUR2_RANDOM),
                Arguments.of(3, Client.KCAT_MURMUR2_RANDOM, Client.JAVA),
                Arguments.of(4, Client.JAVA, Client.KCAT_RANDOM),
                Arguments.of(5, Client.KCAT_RANDOM, Client.JAVA),
                Arguments.of(6, Client.OTHER_PARTITION, Client.JAVA),
                Arguments.of(7, Client.JAVA, Client.OTHER_PARTITION),
                Arguments.of(8, Client.KCAT_RANDOM, Client.KCAT_CONSISTENT_RANDOM));
    }

    @ParameterizedTest(name = "images from {1}, labels from {2}")
    @MethodSource("clientPairs")
    @Order(1)
    void everyLateLabelMeetsItsImageWhicheverClientsSentThem(final int pair, final Client images,
            final Client labels) throws Exception {
        assumeTrue(Files.isExecutable(KCAT) || (images.librdkafkaPartitioner == null
                && labels.librdkafkaPartitioner == null), "needs Debian's kcat (.ci/run installs it)");
        final MnistDataset test = TestFixtures.mnist().test();
        final long windowStart = FIRST_WINDOW.plus(Duration.ofHours(pair)).toEpochMilli();
        final List<String[]> imageRecords = new ArrayList<>();
        final List<String[]> labelRecords = new ArrayList<>();
        for (int i = 0; i < IMAGES_PER_PAIR; i++) {
            final String id = "pair" + pair + "-" + i + "-" + service.hashCode();
            final int index = pair * IMAGES_PER_PAIR + i;
            imageRecords.add(new String[] {id, json(DigitImage.ofPixels(id, TestFixtures.pixels(index), null,
                    windowStart + 60_000 + i, "join-test"))});
            labelRecords.add(new String[] {id, json(new DigitLabel(id, test.label(index)))});
        }
        send(images, Topics.IMAGES, imageRecords);
        send(labels, Topics.LABELS, labelRecords);

        try {
            await().atMost(TIMEOUT).until(() -> labeledIn(windowStart) == IMAGES_PER_PAIR);
        } catch (final org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(labeledIn(windowStart) + " of " + IMAGES_PER_PAIR + " labels met their image;"
                    + " summary: " + get("/api/summary").get("labels"), e);
        }
    }

    @Test
    @Order(2)
    void labelsWhoseImageNeverCameAreCountedAfterTheJoinWindowAndShown() throws Exception {
        await().atMost(JOIN_WINDOW.plus(TIMEOUT)).untilAsserted(() -> {
            final JsonNode joins = get("/api/summary").get("labels");
            // At least: the app also reads what earlier tests left on the shared broker.
            assertThat(joins.get("labelsUnmatched").asLong()).as("labels given up on")
                    .isGreaterThanOrEqualTo(ORPHAN_LABELS);
            assertThat(joins.get("labelsAwaitingImage").asLong()).as("labels waiting").isZero();
            assertThat(joins.get("predictionsAwaitingLabel").asLong()).as("predictions waiting").isZero();
        });
        assertThat(text("/metrics")).containsPattern("digits_labels_unmatched_total [1-9]")
                .contains("digits_labels_awaiting_prediction 0.0");
    }

    /** Sends {@code records} (id, JSON) to {@code topic} as {@code client} would. */
    private static void send(final Client client, final String topic, final List<String[]> records) throws Exception {
        if (client.librdkafkaPartitioner != null) {
            kcat(client.librdkafkaPartitioner, topic, records);
            return;
        }
        try (KafkaProducer<String, String> producer = producer()) {
            final int partitions = producer.partitionsFor(topic).size();
            for (final String[] record : records) {
                if (client == Client.OTHER_PARTITION) {
                    final int murmur2 = Utils.toPositive(Utils.murmur2(record[0].getBytes(StandardCharsets.UTF_8)))
                            % partitions;
                    producer.send(new ProducerRecord<>(topic, (murmur2 + 1) % partitions, record[0], record[1]));
                } else {
                    producer.send(new ProducerRecord<>(topic, record[0], record[1]));
                }
            }
        }
    }

    /** Produces tab-separated key and value lines through kcat with one of librdkafka's partitioners. */
    private static void kcat(final String partitioner, final String topic, final List<String[]> records)
            throws IOException, InterruptedException {
        final Path lines = Files.createTempFile(dir, "kcat", ".tsv");
        Files.write(lines, records.stream().map(record -> record[0] + "\t" + record[1]).toList());
        final Path log = Files.createTempFile(dir, "kcat", ".log");
        final Process kcat = new ProcessBuilder(KCAT.toString(), "-b", KafkaClusterExtension.bootstrapServers(),
                "-P", "-t", topic, "-K", "\t", "-X", "partitioner=" + partitioner)
                .redirectInput(lines.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(kcat.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("kcat finished").isTrue();
            assertThat(kcat.exitValue()).as("kcat's exit code; it said: %s", Files.readString(log)).isZero();
        } finally {
            kcat.destroyForcibly();
        }
    }

    /** Labeled images counted so far in the hour-long window starting at {@code windowStart}. */
    private static long labeledIn(final long windowStart) {
        for (final ConsumerRecord<String, String> record : accuracyReader.poll(Duration.ofMillis(200))) {
            final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(record.topic(),
                    record.value().getBytes(StandardCharsets.UTF_8));
            if (row.trueClass().equals(ClassAccuracy.ALL_CLASSES)
                    && row.windowEnd() - row.windowStart() == Duration.ofHours(1).toMillis()) {
                LABELED_BY_WINDOW.merge(row.windowStart(), row.total(), Math::max);
            }
        }
        return LABELED_BY_WINDOW.getOrDefault(windowStart, 0L);
    }

    private static JsonNode get(final String path) throws Exception {
        return JsonSerde.MAPPER.readTree(text(path));
    }

    private static String text(final String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + service.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
