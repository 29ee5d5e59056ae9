package io.digitstream.trainer;

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
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.Json;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.TestMnist;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.service.AppConfig;
import io.digitstream.stream.service.EmbeddedKafkaBroker;
import io.digitstream.stream.service.StreamService;

/**
 * The loop on a real broker: labeled images produced to Kafka (half with their label inline, half
 * with a late label), the trainer fine-tuning the live model on them and publishing the result, and
 * the running stream app switching to it.
 */
class TrainFromKafkaTest {

    private static final int IMAGES = 2_000;

    @TempDir
    Path dir;

    @Test
    void trainsOnLabeledImagesFromKafkaPublishesAndTheRunningAppSwitches() throws Exception {
        final Path models = dir.resolve("models");
        final String mnist = TestMnist.CACHE_DIR.toString();
        assertThat(run("train", "--epochs", "1", "--train-limit", "3000", "--output", models.toString(),
                "--cache-dir", mnist, "--offline")).isZero();
        final String first = Files.readString(models.resolve(ModelArtifact.LATEST_FILE)).strip();

        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("broker"))) {
            final Map<String, String> settings = new HashMap<>();
            settings.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            settings.put(AppConfig.MODEL, models.toString());
            settings.put(AppConfig.HTTP_PORT, "0");
            settings.put("state.dir", dir.resolve("state").toString());
            try (StreamService app = StreamService.start(AppConfig.load(null, Map.of(), settings))) {
                app.awaitRunning(Duration.ofMinutes(2));
                assertThat(health(app)).contains(first);
                produce(broker.bootstrapServers(), TestMnist.data().test());

                final String bootstrap = "--bootstrap-servers=" + broker.bootstrapServers();
                assertThat(run("train", "--from-kafka", bootstrap, "--fine-tune", "live", "--learning-rate", "1e-4",
                        "--epochs", "1", "--output", models.toString(), "--cache-dir", mnist, "--offline",
                        "--publish")).isZero();
                final String second = Files.readString(models.resolve(ModelArtifact.LATEST_FILE)).strip();
                assertThat(second).isNotEqualTo(first);

                final JsonNode data = Json.MAPPER.readTree(models.resolve(second)
                        .resolve(TrainCommand.TRAINING_DATA_FILE).toFile());
                assertThat(data.get("images").asInt()).isEqualTo(IMAGES);
                assertThat(data.get("labelsJoined").asInt()).isEqualTo(IMAGES / 2);
                int perClass = 0;
                for (final JsonNode count : data.get("perClass")) {
                    perClass += count.asInt();
                }
                assertThat(perClass).isEqualTo(IMAGES);
                long imageOffsets = 0;
                for (final JsonNode range : data.get("ranges")) {
                    if (range.get("topic").asText().equals(Topics.IMAGES)) {
                        imageOffsets += range.get("until").asLong() - range.get("from").asLong();
                    }
                }
                assertThat(imageOffsets).isEqualTo(IMAGES);
                final JsonNode metadata = Json.MAPPER.readTree(models.resolve(second)
                        .resolve(ModelArtifact.METADATA_FILE).toFile());
                assertThat(metadata.at("/hyperparameters/fineTunedFrom").asText()).isEqualTo("live");
                assertThat(metadata.at("/hyperparameters/data").asText()).contains("2000 labeled images from "
                        + Topics.IMAGES);

                await().atMost(Duration.ofMinutes(1)).until(() -> health(app).contains(second));
            }
        }
    }

    /** The first test images: even ones with their label inline, odd ones with a late label. */
    private static void produce(final String bootstrap, final MnistDataset test) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < IMAGES; i++) {
                final String id = "k" + i;
                final byte[] pixels = Arrays.copyOfRange(test.pixels(), i * DigitNetwork.PIXELS,
                        (i + 1) * DigitNetwork.PIXELS);
                final Integer inline = i % 2 == 0 ? test.label(i) : null;
                producer.send(new ProducerRecord<>(Topics.IMAGES, id, JsonSerde.serdeFor(DigitImage.class)
                        .serialize(Topics.IMAGES, DigitImage.ofPixelsBase64(id, pixels, inline, null, "test"))));
                if (inline == null) {
                    producer.send(new ProducerRecord<>(Topics.LABELS, id, JsonSerde.serdeFor(DigitLabel.class)
                            .serialize(Topics.LABELS, new DigitLabel(id, test.label(i)))));
                }
            }
        }
    }

    private static String health(final StreamService app) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:"
                + app.httpPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int run(final String... args) {
        final PrintStream original = System.out;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            return TrainerCli.run(args);
        } finally {
            System.setOut(original);
        }
    }
}
