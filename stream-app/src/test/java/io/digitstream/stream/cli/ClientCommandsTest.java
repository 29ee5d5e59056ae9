package io.digitstream.stream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.service.EmbeddedKafkaBroker;

/** The produce and consume commands against a real broker. */
@ExtendWith(KafkaClusterExtension.class)
class ClientCommandsTest {

    @TempDir
    Path dir;

    @Test
    void producesPngFilesWithLateLabelsKeyedByTheirIds() throws Exception {
        final String run = UUID.randomUUID().toString().substring(0, 8);
        final String png = JsonSerde.MAPPER.readTree(Files.readString(
                Path.of("../schemas/json/examples/digit-image-png.json"))).get("png").asText();
        Files.write(dir.resolve("1_" + run + ".png"), java.util.Base64.getDecoder().decode(png));
        Files.write(dir.resolve("unlabeled-" + run + ".png"), java.util.Base64.getDecoder().decode(png));

        final int code = StreamApp.run("produce", "--bootstrap-servers", KafkaClusterExtension.bootstrapServers(),
                "--from", dir.toString(), "--labels", "late", "--label-delay", "PT0.1S", "--rate", "0");

        assertThat(code).isZero();
        final Map<String, String> images = read(Topics.IMAGES, run, 2);
        final Map<String, String> labels = read(Topics.LABELS, run, 1);
        final DigitImage labeled = JsonSerde.serdeFor(DigitImage.class).deserialize("t",
                images.get("1_" + run).getBytes(StandardCharsets.UTF_8));
        assertThat(labeled.png()).isEqualTo(png);
        assertThat(labeled.label()).as("late, not inline").isNull();
        assertThat(images).containsKey("unlabeled-" + run);
        assertThat(JsonSerde.serdeFor(DigitLabel.class).deserialize("t",
                labels.get("1_" + run).getBytes(StandardCharsets.UTF_8))).isEqualTo(new DigitLabel("1_" + run, 1));
    }

    @Test
    void producesMnistImagesAsBase64ByDefaultOrAsPixelArrays() {
        final String run = UUID.randomUUID().toString().substring(0, 8);
        final String cache = TestFixtures.MNIST_CACHE_DIR.toString();
        final MnistDataset test = TestFixtures.mnist().test();
        final byte[] first = Arrays.copyOf(test.pixels(), DigitNetwork.PIXELS);

        assertThat(StreamApp.run("produce", "--bootstrap-servers", KafkaClusterExtension.bootstrapServers(),
                "--cache-dir", cache, "--limit", "2", "--rate", "0", "--id-prefix", "b64-" + run)).isZero();
        assertThat(StreamApp.run("produce", "--bootstrap-servers", KafkaClusterExtension.bootstrapServers(),
                "--cache-dir", cache, "--limit", "2", "--rate", "0", "--id-prefix", "int-" + run,
                "--encoding", "PIXELS")).isZero();

        final Map<String, String> images = read(Topics.IMAGES, run, 4);
        final JsonSerde<DigitImage> serde = JsonSerde.serdeFor(DigitImage.class);
        final DigitImage base64 = serde.deserialize("t", images.get("b64-" + run + "-00000")
                .getBytes(StandardCharsets.UTF_8));
        final DigitImage ints = serde.deserialize("t", images.get("int-" + run + "-00000")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(base64.pixels()).isNull();
        assertThat(java.util.Base64.getDecoder().decode(base64.pixelsBase64())).isEqualTo(first);
        assertThat(ints.pixelsBase64()).isNull();
        assertThat(ints.pixels()).hasSize(DigitNetwork.PIXELS);
        for (int i = 0; i < DigitNetwork.PIXELS; i++) {
            assertThat(ints.pixels()[i]).isEqualTo(first[i] & 0xFF);
        }
        assertThat(base64.label()).isEqualTo(ints.label()).isEqualTo(test.label(0));
    }

    @Test
    void producesJsonLinesFromStandardInputAsTheyAre() throws Exception {
        final String id = "stdin-" + UUID.randomUUID();
        final String line = "{\"id\":\"" + id + "\",\"pixels\":[1,2,3]}";
        final InputStream original = System.in;
        try {
            System.setIn(new ByteArrayInputStream((line + "\n\n").getBytes(StandardCharsets.UTF_8)));
            assertThat(StreamApp.run("produce", "--bootstrap-servers", KafkaClusterExtension.bootstrapServers(),
                    "--from", "-")).isZero();
        } finally {
            System.setIn(original);
        }

        assertThat(read(Topics.IMAGES, id, 1)).containsEntry(id, line);
    }

    @Test
    void consumePrintsPredictionsAsATableAndAsJsonLines() throws Exception {
        final String id = "consume-" + UUID.randomUUID();
        final Prediction prediction = new Prediction(id, 4, 0.97f, new float[10], "v-test", 4, true, 1_000L, 1_042L);
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaClusterExtension.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.PREDICTIONS, id, new String(
                    JsonSerde.serdeFor(Prediction.class).serialize("t", prediction), StandardCharsets.UTF_8))).get();
        }

        final String table = TestFixtures.runForOutput("consume", "--bootstrap-servers", KafkaClusterExtension.bootstrapServers(),
                "--from-beginning");
        final String json = TestFixtures.runForOutput("consume", "--bootstrap-servers", KafkaClusterExtension.bootstrapServers(),
                "--from-beginning", "--format", "json");

        assertThat(table).contains("predicted").containsPattern(id + "\\s+4\\s+0\\.9700\\s+4\\s+true\\s+42 ms\\s+v-test");
        assertThat(json.lines().filter(l -> l.contains(id)).findFirst().orElseThrow())
                .isEqualTo(new String(JsonSerde.serdeFor(Prediction.class).serialize("t", prediction),
                        StandardCharsets.UTF_8));
    }

    @Test
    void producingBeforeTheAppHasMadeItsTopicsSaysWhatToDo() {
        // A broker of its own without the app's topics; it does not make topics on first use.
        try (EmbeddedKafkaBroker empty = EmbeddedKafkaBroker.start(dir.resolve("empty-broker"))) {
            final String err = TestFixtures.runForErrors(StreamApp.EXIT_FAILURE, "produce", "--bootstrap-servers",
                    empty.bootstrapServers(), "--cache-dir", TestFixtures.MNIST_CACHE_DIR.toString(), "--limit", "1");
            assertThat(err.lines().toList()).singleElement().asString().isEqualTo("stream-app produce: "
                    + Topics.IMAGES + " does not exist on " + empty.bootstrapServers() + ": start the stream app once"
                    + " (it creates its topics), or create them as docs/operations.md says");
        }
    }

    @Test
    void badClientArgumentsGetOneLine() {
        final String err = captureErr("produce", "--labels", "sometimes");

        assertThat(err.strip()).isEqualTo("stream-app produce: --labels must be inline, late, none or mixed, "
                + "got 'sometimes'");
    }

    private static Map<String, String> read(final String topic, final String containing, final int count) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaClusterExtension.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "client-test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        final Map<String, String> found = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> {
                    if (record.key() != null && record.key().contains(containing)) {
                        found.put(record.key(), record.value());
                    }
                });
                return found.size() >= count;
            });
        }
        return found;
    }

    private static String captureErr(final String... args) {
        return TestFixtures.runForErrors(StreamApp.EXIT_USAGE, args);
    }
}
