package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import io.digitstream.model.ModelArtifact;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.BrokerProcess;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestClients;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.cli.StreamApp;

/** The app through faults from outside: its broker killed, its state lost, its model broken. */
@ExtendWith(KafkaClusterExtension.class)
class FaultsTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(4);

    @TempDir
    Path dir;

    @Test
    void survivesItsBrokerKilledAndRestartedWithNothingLostOrDuplicated() throws Exception {
        final int port = BrokerProcess.freePort();
        final Path brokerDir = dir.resolve("broker");
        final MnistDataset test = TestFixtures.mnist().test();
        BrokerProcess broker = BrokerProcess.start(brokerDir, port);
        final Map<String, String> settings = TestFixtures.appSettings(dir, "broker-fault");
        settings.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                KafkaProducer<String, String> producer = producer(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
                KafkaConsumer<String, String> reader = reader(broker.bootstrapServers(), Topics.PREDICTIONS)) {
            for (int i = 0; i < test.count(); i++) {
                final String id = String.format("b%05d", i);
                producer.send(new ProducerRecord<>(Topics.IMAGES, id, TestFixtures.json(
                        DigitImage.ofPixels(id, TestFixtures.pixels(i), test.label(i), null, "fault-test"))));
            }
            producer.flush();
            final Map<String, Prediction> seen = new HashMap<>();
            final List<String> duplicates = new ArrayList<>();
            await().atMost(TIMEOUT).until(() -> read(reader, "b", seen, duplicates) >= 2_000);

            broker.kill();
            final int beforeKill = read(reader, "b", seen, duplicates);
            final long killedAt = System.nanoTime();
            Thread.sleep(2_000); // down for a while: the app's requests fail and are retried
            broker = BrokerProcess.start(brokerDir, port);
            final long restartedAt = System.nanoTime();
            await().atMost(TIMEOUT).until(() -> read(reader, "b", seen, duplicates) > beforeKill);
            final long resumedAt = System.nanoTime();
            await().atMost(TIMEOUT).until(() -> read(reader, "b", seen, duplicates) >= test.count());
            read(reader, "b", seen, duplicates);

            assertThat(beforeKill).as("predictions before the kill").isLessThan(test.count() - 1_000);
            assertThat(seen).hasSize(test.count());
            assertThat(duplicates).as("images predicted twice").isEmpty();
            assertThat(health(service)).startsWith("200 ");
            System.out.printf("Broker SIGKILL after %,d of %,d predictions: down %.1f s, first prediction %.1f s"
                    + " after its restart%n", beforeKill, test.count(), (restartedAt - killedAt) / 1e9,
                    (resumedAt - restartedAt) / 1e9);
        } finally {
            broker.close();
        }
    }

    @Test
    void restoresItsStateFromTheChangelogsWhenItsStateDirectoryIsDeleted() throws Exception {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "state-loss");
        // One window for the whole test, dated a day back: no other test's images fall into it.
        final long eventTime = System.currentTimeMillis() - Duration.ofDays(1).toMillis();
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_GRACE_MS, Long.toString(Duration.ofDays(7).toMillis()));
        final AppConfig config = AppConfig.load(null, Map.of(), settings);
        final MnistDataset test = TestFixtures.mnist().test();
        final int images = 1_000;
        final Map<String, Prediction> seen = new HashMap<>();
        final List<String> duplicates = new ArrayList<>();
        // The topics as the app creates them, for the reader to start at the predictions' end.
        TopicSetup.ensureTopics(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                KafkaClusterExtension.bootstrapServers()), config.partitions(), config.replication());
        try (KafkaProducer<String, String> producer = producer();
                KafkaConsumer<String, String> reader = TestClients.consumerAtEnd(Topics.PREDICTIONS)) {
            // Unlabeled images: their predictions wait in the label join's store for labels.
            try (StreamService service = StreamService.start(config)) {
                for (int i = 0; i < images; i++) {
                    send(producer, test, i, eventTime);
                }
                producer.flush();
                await().atMost(TIMEOUT).until(() -> read(reader, "s", seen, duplicates) >= images);
            }
            Utils.delete(dir.resolve("state").toFile());
            assertThat(dir.resolve("state")).doesNotExist();

            try (StreamService service = StreamService.start(config)) {
                for (int i = 0; i < images; i++) {
                    final String id = String.format("s%05d", i);
                    producer.send(new ProducerRecord<>(Topics.LABELS, id, TestFixtures.json(
                            new DigitLabel(id, test.label(i)))));
                    send(producer, test, images + i, eventTime);
                }
                producer.flush();
                await().atMost(TIMEOUT).until(() -> read(reader, "s", seen, duplicates) >= 2 * images);
                // Every late label found its prediction in the restored store and was counted once.
                final Map<String, ClassAccuracy> rows = new HashMap<>();
                try (KafkaConsumer<String, String> accuracy = TestClients.consumer(Topics.ACCURACY)) {
                    await().atMost(TIMEOUT).until(() -> {
                        accuracy.poll(Duration.ofMillis(200)).forEach(record -> {
                            final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(
                                    record.topic(), record.value().getBytes(StandardCharsets.UTF_8));
                            if (row.windowStart() <= eventTime && eventTime < row.windowEnd()) {
                                rows.put(record.key(), row);
                            }
                        });
                        final ClassAccuracy all = rows.get(ClassAccuracy.ALL_CLASSES);
                        return all != null && all.total() == images;
                    });
                }
            }
            assertThat(seen).hasSize(2 * images);
            assertThat(duplicates).as("images predicted twice").isEmpty();
        }
    }

    @Test
    void refusesABrokenModelWithOneMessageAndWritesNothingToKafka() throws Exception {
        final Path good = dir.resolve("good");
        ModelArtifact.save(good, TestFixtures.network(), TestFixtures.classifier().metadata());
        final byte[] model = Files.readAllBytes(good.resolve(ModelArtifact.MODEL_FILE));

        final Path truncated = copy(good, "truncated");
        Files.write(truncated.resolve(ModelArtifact.MODEL_FILE), java.util.Arrays.copyOf(model, model.length / 2));
        matchChecksum(truncated);
        final Path tampered = copy(good, "tampered");
        final byte[] changed = model.clone();
        changed[changed.length / 2] ^= 0x55;
        Files.write(tampered.resolve(ModelArtifact.MODEL_FILE), changed);
        final Path notDl4j = copy(good, "not-dl4j");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(notDl4j.resolve(ModelArtifact.MODEL_FILE)))) {
            zip.putNextEntry(new ZipEntry("notes.txt"));
            zip.write("not a network".getBytes(StandardCharsets.UTF_8));
        }
        matchChecksum(notDl4j);
        final Path wrongShape = dir.resolve("wrong-shape");
        final MultiLayerNetwork fiveClasses = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1)).build());
        fiveClasses.init();
        ModelArtifact.save(wrongShape, fiveClasses, TestFixtures.classifier().metadata());

        final Map<String, Long> before = endOffsets();
        final Map<Path, String> expected = Map.of(truncated, "is not a DL4J model", tampered, "has SHA-256",
                notDl4j, "is not a DL4J model", wrongShape, "does not classify 28x28 images into 10 digits");
        for (final Map.Entry<Path, String> broken : expected.entrySet()) {
            final String[] errors = new String[1];
            final int exit = runCapturingErrors(errors, "--model", broken.getKey().toString(), "--bootstrap-servers",
                    KafkaClusterExtension.bootstrapServers(), "--http-port", "0");
            assertThat(exit).as(broken.getKey().toString()).isEqualTo(1);
            final List<String> lines = errors[0].lines().filter(line -> line.startsWith("stream-app")).toList();
            assertThat(lines).as(errors[0]).singleElement().asString().contains(broken.getValue())
                    .contains("train one with ./run train");
            assertThat(errors[0]).as("no stack trace for a broken model").doesNotContain("\tat ");
        }
        assertThat(endOffsets()).as("records in every topic").isEqualTo(before);
    }

    private static void send(final KafkaProducer<String, String> producer, final MnistDataset test, final int index,
            final long eventTime) {
        final String id = String.format("s%05d", index);
        producer.send(new ProducerRecord<>(Topics.IMAGES, id, TestFixtures.json(DigitImage.ofPixels(id,
                TestFixtures.pixels(index), null, eventTime, "state-test"))));
    }

    /** Runs the stream app's command line, keeping what it printed to stderr. */
    private static int runCapturingErrors(final String[] errors, final String... args) {
        final PrintStream original = System.err;
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            return StreamApp.run(args);
        } finally {
            System.setErr(original);
            errors[0] = err.toString(StandardCharsets.UTF_8);
        }
    }

    /** Every partition's end offset on the test broker, topics created since included. */
    private static Map<String, Long> endOffsets() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                KafkaClusterExtension.bootstrapServers()))) {
            final Set<String> topics = admin.listTopics().names().get();
            final Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
            admin.describeTopics(topics).allTopicNames().get().values().forEach(topic -> topic.partitions()
                    .forEach(p -> partitions.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
            return admin.listOffsets(partitions).all().get().entrySet().stream()
                    .collect(Collectors.toMap(entry -> entry.getKey().toString(), entry -> entry.getValue().offset()));
        }
    }

    private Path copy(final Path artifact, final String name) throws Exception {
        final Path target = dir.resolve(name);
        Files.createDirectories(target);
        for (final String file : List.of(ModelArtifact.MODEL_FILE, ModelArtifact.METADATA_FILE)) {
            Files.copy(artifact.resolve(file), target.resolve(file));
        }
        return target;
    }

    /** Rewrites the artifact's metadata with its model file's checksum, so loading gets past the check. */
    private static void matchChecksum(final Path artifact) throws Exception {
        final Path metadata = artifact.resolve(ModelArtifact.METADATA_FILE);
        final var json = (com.fasterxml.jackson.databind.node.ObjectNode) JsonSerde.MAPPER.readTree(metadata.toFile());
        json.put("modelSha256", ModelArtifact.sha256(artifact.resolve(ModelArtifact.MODEL_FILE)));
        JsonSerde.MAPPER.writeValue(metadata.toFile(), json);
    }

    private static KafkaConsumer<String, String> reader(final String bootstrapServers, final String topic) {
        final Properties props = TestClients.consumerProps();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        final KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /** Reads the committed predictions of images whose six-character ids start with {@code prefix}. */
    private static int read(final KafkaConsumer<String, String> reader, final String prefix,
            final Map<String, Prediction> seen, final List<String> duplicates) {
        return TestClients.drainPredictions(reader, id -> id.startsWith(prefix) && id.length() == 6, seen,
                duplicates);
    }

    private static String health(final StreamService service) throws Exception {
        final HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + service.httpPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        return answer.statusCode() + " " + answer.body();
    }
}
