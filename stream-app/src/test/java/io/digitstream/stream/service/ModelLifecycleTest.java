package io.digitstream.stream.service;

import static io.digitstream.stream.TestFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.Json;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelMetadata;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.releases.ModelControls;
import io.digitstream.releases.ModelRelease;
import io.digitstream.releases.ReleaseArchives;
import io.digitstream.releases.ReleaseLog;
import io.digitstream.releases.Releases;
import io.digitstream.releases.Replication;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.TestFixtures;

/**
 * Models published to digits.models while the app runs, on a broker of each test's own (the
 * control record would otherwise reach every other test's app): a switch under load loses,
 * duplicates and mixes nothing, and a broken release is refused with its reason while the running
 * model keeps serving.
 */
class ModelLifecycleTest {

    private static final String V1 = TestFixtures.MODEL_VERSION;
    private static final String V2 = "test-model-2";
    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    @TempDir
    Path dir;
    private EmbeddedKafkaBroker broker;
    private Map<String, String> settings;

    @BeforeEach
    void startBroker() {
        broker = EmbeddedKafkaBroker.start(dir.resolve("broker"));
        settings = TestFixtures.appSettings(dir, "lifecycle");
        settings.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
    }

    @AfterEach
    void stopBroker() {
        broker.close();
    }

    @Test
    void aModelPublishedUnderLoadTakesOverWithoutLossDuplicatesOrGoingBack() throws Exception {
        final int images = 10_000;
        final int publishAfter = 4_000;
        final MnistDataset test = TestFixtures.mnist().test();
        final Path v2 = TestFixtures.saveModel(dir, V2);
        // Day-long tumbling windows: each labeled image counts in one row per version.
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofDays(1).toMillis()));
        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                KafkaProducer<String, String> producer = producer()) {
            service.awaitRunning(TIMEOUT);
            final long start = System.nanoTime();
            final int partitions = producer.partitionsFor(Topics.IMAGES).size();
            final Map<String, Integer> sentTo = new HashMap<>();
            for (int i = 0; i < images; i++) {
                final String id = "switch-" + i;
                // Partitions chosen apart from the key, as librdkafka's partitioners or a client
                // picking its own partition do: each input task's predictions still keep its order.
                sentTo.put(id, i % partitions);
                producer.send(new ProducerRecord<>(Topics.IMAGES, i % partitions, id, json(DigitImage.ofPixels(id,
                        TestFixtures.pixels(i % test.count()), test.label(i % test.count()),
                        System.currentTimeMillis(), "switch-test"))));
                if (i == publishAfter) {
                    releases().publish(v2, false);
                }
                // A steady 1,000 images a second, so the switch lands among batches in flight.
                final long due = start + (i + 1) * 1_000_000L;
                final long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            producer.flush();

            final Map<TopicPartition, List<Prediction>> byPartition = new HashMap<>();
            final Map<String, Integer> perId = new HashMap<>();
            final List<String> elsewhere = new ArrayList<>();
            try (KafkaConsumer<String, String> reader = consumer()) {
                reader.subscribe(List.of(Topics.PREDICTIONS));
                await().atMost(TIMEOUT).until(() -> {
                    for (final ConsumerRecord<String, String> record : reader.poll(Duration.ofMillis(200))) {
                        final Prediction p = JsonSerde.serdeFor(Prediction.class).deserialize(record.topic(),
                                record.value().getBytes(StandardCharsets.UTF_8));
                        byPartition.computeIfAbsent(new TopicPartition(record.topic(), record.partition()),
                                partition -> new ArrayList<>()).add(p);
                        perId.merge(p.id(), 1, Integer::sum);
                        if (record.partition() != sentTo.get(p.id())) {
                            elsewhere.add(p.id() + " sent to " + sentTo.get(p.id()) + ", predicted on "
                                    + record.partition());
                        }
                    }
                    return perId.size() >= images;
                });
                // Anything more (a duplicate) would arrive with what was read.
                reader.poll(Duration.ofSeconds(1)).forEach(record -> perId.merge(record.key(), 1, Integer::sum));
            }
            assertThat(perId).hasSize(images).allSatisfy((id, count) -> assertThat(count).as(id).isOne());
            assertThat(elsewhere).as("predictions written to another partition than their image's").isEmpty();
            final List<Prediction> all = byPartition.values().stream().flatMap(List::stream).toList();
            assertThat(all).extracting(Prediction::modelVersion).containsOnly(V1, V2).contains(V1, V2);
            byPartition.forEach((partition, predictions) -> {
                final int firstNew = predictions.stream().map(Prediction::modelVersion).toList().indexOf(V2);
                assertThat(predictions.subList(Math.max(0, firstNew), predictions.size()))
                        .as("no prediction of %s after one of %s on %s", V1, V2, partition)
                        .extracting(Prediction::modelVersion).containsOnly(V2);
            });
            final String metrics = get(service, "/metrics");
            assertThat(metrics).contains("digits_model_switches_total{result=\"switched\"} 1.0")
                    .contains("digits_model_version_info{version=\"" + V2 + "\"} 1")
                    .doesNotContain("digits_model_version_info{version=\"" + V1 + "\"}")
                    .contains("digits_model_switch_latency_seconds_count 1");
            assertThat(get(service, "/health")).contains(V2);

            // Each version's accuracy rows count exactly its labeled predictions.
            final Map<String, Long> predictedBy = new HashMap<>();
            all.forEach(p -> predictedBy.merge(p.modelVersion(), 1L, Long::sum));
            final Map<String, Map<Long, Long>> totals = new HashMap<>();
            try (KafkaConsumer<String, String> rows = consumer()) {
                rows.subscribe(List.of(Topics.ACCURACY));
                await().atMost(TIMEOUT).until(() -> {
                    for (final ConsumerRecord<String, String> record : rows.poll(Duration.ofMillis(200))) {
                        final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(record.topic(),
                                record.value().getBytes(StandardCharsets.UTF_8));
                        if (row.trueClass().equals(ClassAccuracy.ALL_CLASSES)) {
                            totals.computeIfAbsent(row.modelVersion(), v -> new HashMap<>())
                                    .merge(row.windowStart(), row.total(), Math::max);
                        }
                    }
                    final Map<String, Long> counted = new HashMap<>();
                    totals.forEach((version, windows) -> counted.put(version,
                            windows.values().stream().mapToLong(Long::longValue).sum()));
                    return counted.equals(predictedBy);
                });
            }
        }
    }

    @Test
    void aBrokenReleaseIsRefusedWithItsReasonAndTheRunningModelKeepsServing() throws Exception {
        final Path v2 = TestFixtures.saveModel(dir, V2);
        final Map<String, byte[]> good = ReleaseArchives.entries(ModelRelease.pack(v2).bytes());
        final byte[] model = good.get(ModelArtifact.MODEL_FILE);
        final byte[] selfTest = good.get("self-test.json");
        final Map<String, byte[]> broken = new LinkedHashMap<>();
        broken.put("bad-sha256", release("broken-bad-sha256", saved(DigitNetwork.create(8, 1e-3)), selfTest,
                model));
        broken.put("bad-shape", release("broken-bad-shape", saved(threeClasses()), selfTest, null));
        broken.put("self-test-mismatch", release("broken-self-test-mismatch", model, wrongAnswer(selfTest), null));
        broken.put("not-a-model", release("broken-not-a-model", "not a model".getBytes(StandardCharsets.UTF_8),
                selfTest, null));
        broken.put("too-large", new byte[ModelRelease.MAX_BYTES + 1]);

        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                KafkaProducer<String, String> producer = producer()) {
            service.awaitRunning(TIMEOUT);
            // One at a time: the app follows the newest control record, and would skip one superseded
            // before it looked.
            try (ReleaseLog.Writer writer = new ReleaseLog.Writer(clientConfig())) {
                ModelControl control = null;
                for (final Map.Entry<String, byte[]> release : broken.entrySet()) {
                    final String version = "broken-" + release.getKey();
                    writer.release(version, release.getValue());
                    control = ModelControls.publish(control, version, "test", System.currentTimeMillis());
                    writer.control(control);
                    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(Releases.rows(releases().read()))
                            .filteredOn(row -> row.version().equals(version)).singleElement()
                            .satisfies(row -> assertThat(row.state()).as(version).contains("refused"))
                            .satisfies(row -> assertThat(row.note()).startsWith(release.getKey() + " (")));
                }
            }
            final String metrics = get(service, "/metrics");
            broken.keySet().forEach(reason -> assertThat(metrics)
                    .contains("digits_model_releases_refused_total{reason=\"" + reason + "\"} 1.0"));

            // The first model still classifies.
            producer.send(new ProducerRecord<>(Topics.IMAGES, "after", json(DigitImage.ofPixels("after",
                    TestFixtures.pixels(0), null, System.currentTimeMillis(), "test"))));
            producer.flush();
            try (KafkaConsumer<String, String> reader = consumer()) {
                reader.subscribe(List.of(Topics.PREDICTIONS));
                final List<Prediction> seen = new ArrayList<>();
                await().atMost(TIMEOUT).until(() -> {
                    reader.poll(Duration.ofMillis(200)).forEach(record -> seen.add(JsonSerde.serdeFor(
                            Prediction.class).deserialize(record.topic(),
                            record.value().getBytes(StandardCharsets.UTF_8))));
                    return !seen.isEmpty();
                });
                assertThat(seen).extracting(Prediction::modelVersion).containsOnly(V1);
            }
        }
    }

    @Test
    void aShadowIsPromotedOnItsAccuracyAndABadModelIsRolledBackByItself() throws Exception {
        settings.put(AppConfig.ACCURACY_WINDOW_MS, "10000");
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, "10000");
        settings.put(AppConfig.PROMOTE_AUTO, "true");
        settings.put(AppConfig.PROMOTE_MIN_IMAGES, "150");
        settings.put(AppConfig.ROLLBACK_AUTO, "true");
        settings.put(AppConfig.ROLLBACK_MIN_IMAGES, "150");
        final Path v2 = TestFixtures.saveModel(dir, V2);
        // Untrained: it passes its own self-test but gets about one digit in ten right, far below the
        // 99% its metadata claims.
        final Path bad = TestFixtures.saveModel(dir, "bad-model", DigitNetwork.create(3, 1e-3), 0.99);
        final MnistDataset test = TestFixtures.mnist().test();
        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                KafkaProducer<String, String> producer = producer()) {
            service.awaitRunning(TIMEOUT);
            final String bootstrap = "--bootstrap-servers=" + broker.bootstrapServers();
            assertThat(TestFixtures.runForOutput("model", "publish", v2.toString(), "--shadow", bootstrap))
                    .contains("shadow: " + V2);
            // A steady stream of labeled images beside the checks, so a slow check never starves the
            // accuracy windows the governor judges on.
            final AtomicInteger sent = new AtomicInteger();
            final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
            sender.scheduleAtFixedRate(() -> {
                for (int i = 0; i < 25; i++) {
                    final int n = sent.getAndIncrement();
                    final int index = n % test.count();
                    final String id = "auto-" + n;
                    producer.send(new ProducerRecord<>(Topics.IMAGES, id, json(DigitImage.ofPixels(id,
                            TestFixtures.pixels(index), test.label(index), System.currentTimeMillis(), "auto"))));
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            try {
                awaitControl(service, control -> V2.equals(control.live()), "the shadow promoted");
                final ModelControl promoted = releases().read().control().orElseThrow();
                assertThat(promoted.shadow()).isNull();
                assertThat(lastChange(promoted)).satisfies(change -> {
                    assertThat(change.action()).isEqualTo("promote");
                    assertThat(change.reason()).startsWith("automatic: " + V2);
                });
                await().atMost(TIMEOUT).until(() -> get(service, "/health").contains(V2));

                assertThat(TestFixtures.runForOutput("model", "publish", bad.toString(), bootstrap))
                        .contains("live: bad-model");
                awaitControl(service, control -> V2.equals(control.live())
                        && "rollback".equals(lastChange(control).action()), "the bad model rolled back");
                assertThat(lastChange(releases().read().control().orElseThrow()).reason())
                        .startsWith("automatic: bad-model").contains("below its test accuracy of 99.00%");
                final String list = TestFixtures.runForOutput("model", "list", bootstrap);
                assertThat(list).containsPattern(V2 + " +live +93\\.00% +\\d+\\.\\d\\d% \\([\\d,]+\\)")
                        .containsPattern("bad-model +published +99\\.00% +\\d+\\.\\d\\d% \\([\\d,]+\\)")
                        .contains("rollback").contains("promote");
            } finally {
                sender.shutdownNow();
            }
            // And by command: the model live before the promotion comes back.
            assertThat(TestFixtures.runForOutput("model", "rollback", bootstrap)).contains("live: " + V1);
            await().atMost(TIMEOUT).until(() -> get(service, "/health").contains(V1));
        }
    }

    @Test
    void everyInstanceSwitchesAndOneStartedLaterStartsOnTheLiveVersion() throws Exception {
        final Path v2 = TestFixtures.saveModel(dir, V2);
        final List<StreamService> instances = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                instances.add(StreamService.start(AppConfig.load(null, Map.of(), instance(i))));
            }
            for (final StreamService instance : instances) {
                instance.awaitRunning(TIMEOUT);
                assertThat(get(instance, "/health")).contains(V1);
            }
            releases().publish(v2, false);
            for (final StreamService instance : instances) {
                await().atMost(TIMEOUT).until(() -> get(instance, "/health").contains(V2));
            }
            // Its local model is V1, published before: the topic's control record decides.
            final StreamService third = StreamService.start(AppConfig.load(null, Map.of(), instance(2)));
            instances.add(third);
            assertThat(get(third, "/health")).contains(V2);
            assertThat(get(third, "/metrics")).doesNotContain("digits_model_switches_total{result=\"switched\"} 1");
        } finally {
            instances.forEach(StreamService::close);
        }
    }

    /** The settings of one of several instances of the same app: its own state directory and port. */
    private Map<String, String> instance(final int number) {
        final Map<String, String> own = new HashMap<>(settings);
        own.put("state.dir", dir.resolve("state-" + number).toString());
        return own;
    }

    /** Waits for the control record to satisfy {@code condition}; on timeout, says where it stands. */
    private void awaitControl(final StreamService service, final Predicate<ModelControl> condition,
            final String what) throws Exception {
        try {
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(500))
                    .until(() -> releases().read().control().filter(condition).isPresent());
        } catch (final ConditionTimeoutException e) {
            throw new AssertionError("not " + what + " within " + TIMEOUT + "; control record "
                    + Json.MAPPER.writeValueAsString(releases().read().control().orElse(null)) + "; summary "
                    + get(service, "/api/summary"), e);
        }
    }

    private static ModelControl.Change lastChange(final ModelControl control) {
        return control.history().get(control.history().size() - 1);
    }

    private Releases releases() {
        return new Releases(clientConfig(), Replication.FOLLOW_CLUSTER, "test");
    }

    private Map<String, Object> clientConfig() {
        return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    }

    private KafkaProducer<String, String> producer() {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer() {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "lifecycle-reader-" + System.nanoTime());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private static String get(final StreamService service, final String path) throws Exception {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + service.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /** A release archive of {@code version}, its metadata vouching for {@code shaOf} (default: the model). */
    private static byte[] release(final String version, final byte[] model, final byte[] selfTest,
            final byte[] shaOf) throws IOException {
        final Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(ModelArtifact.METADATA_FILE, Json.MAPPER.writeValueAsBytes(new ModelMetadata(version,
                Instant.now(), ModelArtifact.MODEL_FILE, ModelArtifact.sha256(new ByteArrayInputStream(
                        shaOf == null ? model : shaOf)), Map.of(), Map.of(), 1, 1, Map.of())));
        entries.put(ModelArtifact.MODEL_FILE, model);
        entries.put("self-test.json", selfTest);
        return ReleaseArchives.zip(entries);
    }

    /** The model file of {@code network}, as an artifact holds it. */
    private byte[] saved(final MultiLayerNetwork network) throws IOException {
        final Path saved = Files.createTempDirectory(dir, "saved");
        ModelArtifact.save(saved, network, new ModelMetadata("x", Instant.now(), null, null, Map.of(), Map.of(), 1,
                1, Map.of()));
        return Files.readAllBytes(saved.resolve(ModelArtifact.MODEL_FILE));
    }

    /** A valid DL4J network that maps 784 pixels to three classes, not ten. */
    private static MultiLayerNetwork threeClasses() {
        final MultiLayerNetwork network = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new OutputLayer.Builder().nIn(DigitNetwork.PIXELS).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .build());
        network.init();
        return network;
    }

    /** The self-test with its first image's answer changed to certainty of a digit it is not. */
    private static byte[] wrongAnswer(final byte[] selfTest) throws IOException {
        final JsonNode parsed = Json.MAPPER.readTree(selfTest);
        final float[] certain = new float[DigitNetwork.CLASSES];
        certain[(TestFixtures.mnist().test().label(0) + 1) % DigitNetwork.CLASSES] = 1;
        ((ArrayNode) parsed.get("probabilities")).set(0, Json.MAPPER.valueToTree(certain));
        return Json.MAPPER.writeValueAsBytes(parsed);
    }
}
