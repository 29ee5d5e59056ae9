package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.cli.ImageProducer;
import io.digitstream.stream.cli.ImageSources;

/** The live dashboard in a real headless Chromium, against the running app on a real broker. */
@ExtendWith(KafkaClusterExtension.class)
class DashboardTest {

    static final Path CHROMIUM = Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("chromedriver.binary", "/usr/bin/chromedriver"));
    static final Path SCREENSHOTS = Path.of("target/screenshots");
    private static final int IMAGES = 60;
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void showsWhatTheTopicsHoldAndClassifiesADrawnDigitThroughKafka() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (.ci/run installs them)");
        final Map<String, String> settings = TestFixtures.appSettings(dir, "dashboard");
        final MnistDataset test = TestFixtures.mnist().test().limit(IMAGES);
        final String run = "dash-" + UUID.randomUUID().toString().substring(0, 6);

        try (StreamService service = StreamService.start(AppConfig.load(null, Map.of(), settings));
                ImageProducer producer = new ImageProducer(service.bootstrapServers(), Map.of(), Duration.ZERO)) {
            producer.send(ImageSources.mnist(test, run, ImageSources.LabelMode.INLINE, 1,
                    ImageSources.Encoding.BASE64), 0, () -> false, n -> { });
            await().atMost(TIMEOUT).until(() -> committedPredictionIds().stream().filter(id -> id.startsWith(run))
                    .count() == IMAGES);

            final WebDriver browser = chromium();
            try {
                browser.get("http://localhost:" + service.httpPort() + "/");
                // The page redraws every second, so an element found may be replaced before it is read.
                await().atMost(TIMEOUT).ignoreException(StaleElementReferenceException.class).untilAsserted(() -> {
                    assertThat(text(browser, "model-version")).isEqualTo(TestFixtures.MODEL_VERSION);
                    assertThat(number(text(browser, "predictions-total"))).isEqualTo(readAll(Topics.PREDICTIONS).size());
                    final ClassAccuracy all = newestRows().get(ClassAccuracy.ALL_CLASSES);
                    final WebElement row = browser.findElement(By.cssSelector("#accuracy-table tr[data-class='all']"));
                    assertThat(number(row.findElement(By.className("total")).getText())).isEqualTo(all.total());
                    assertThat(number(row.findElement(By.className("correct")).getText())).isEqualTo(all.correct());
                    final ClassAccuracy seven = newestRows().get("7");
                    assertThat(number(browser.findElement(By.cssSelector("#confusion td[data-true='7'][data-predicted='7']"))
                            .getText())).isEqualTo(seven.predictedCounts()[7]);
                    assertThat(browser.findElements(By.cssSelector("#recent .digit canvas"))).hasSize(DashboardFeed.RECENT);
                    // The models panel: this version's accuracy over time, and its release in the history.
                    assertThat(browser.findElements(By.cssSelector("#accuracy-chart path[data-version='"
                            + TestFixtures.MODEL_VERSION + "']"))).hasSize(1);
                    assertThat(text(browser, "model-history")).contains("publish").contains(TestFixtures.MODEL_VERSION);
                    // The label join's tile (the app also reads what earlier tests left on the broker).
                    assertThat(text(browser, "labels-waiting")).matches("[\\d,]+");
                    assertThat(text(browser, "labels-join")).matches("[\\d,]+ predictions waiting for a label;"
                            + " gave up after the join window: [\\d,]+ labels, [\\d,]+ predictions");
                    // The only instance owns every input partition.
                    assertThat(text(browser, "partitions")).contains(inputPartitions());
                });
                screenshot(browser, "dashboard.png");
                // The page draws each recent prediction's image from the pixels the app remembered.
                final com.fasterxml.jackson.databind.JsonNode summary = JsonSerde.MAPPER.readTree(
                        java.net.URI.create("http://localhost:" + service.httpPort() + "/api/summary").toURL());
                assertThat(summary.at("/instance/instanceId").asText()).isNotBlank();
                assertThat(summary.at("/instance/partitions")).hasSize(inputPartitions().length);
                assertThat(summary.get("recent")).hasSize(DashboardFeed.RECENT).allSatisfy(recent ->
                        assertThat(java.util.Base64.getDecoder().decode(recent.get("pixelsBase64").asText()))
                                .hasSize(DigitNetwork.PIXELS));

                final WebElement pad = browser.findElement(By.id("pad"));
                // A "1": one firm vertical stroke down the middle of the pad.
                new Actions(browser).moveToElement(pad, 0, -100).clickAndHold().moveByOffset(4, 60)
                        .moveByOffset(4, 60).moveByOffset(4, 60).release().perform();
                browser.findElement(By.id("classify")).click();
                await().atMost(TIMEOUT).until(() -> !browser.findElements(By.id("canvas-digit")).isEmpty());
                final String id = browser.findElement(By.id("canvas-result")).getDomAttribute("data-id");
                screenshot(browser, "canvas.png");

                assertThat(id).startsWith("canvas-");
                final Prediction fromKafka = predictionOf(id);
                assertThat(text(browser, "canvas-digit")).isEqualTo(Integer.toString(fromKafka.predicted()));
                assertThat(fromKafka.modelVersion()).isEqualTo(TestFixtures.MODEL_VERSION);
            } finally {
                browser.quit();
            }
        }
    }

    static WebDriver chromium() {
        final ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--window-size=1400,1000");
        final ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    static void screenshot(final WebDriver browser, final String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        Files.write(SCREENSHOTS.resolve(name), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    /** The partitions of digits.images and digits.labels, as the dashboard names them. */
    private static String[] inputPartitions() {
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            return java.util.stream.Stream.of(Topics.IMAGES, Topics.LABELS)
                    .flatMap(topic -> consumer.partitionsFor(topic).stream())
                    .map(info -> info.topic() + "-" + info.partition()).toArray(String[]::new);
        }
    }

    private static String text(final WebDriver browser, final String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static long number(final String text) {
        return Long.parseLong(text.replace(",", "").strip());
    }

    private static List<String> committedPredictionIds() {
        return read(Topics.PREDICTIONS).keySet().stream().toList();
    }

    private static Prediction predictionOf(final String id) {
        final byte[] value = read(Topics.PREDICTIONS).get(id);
        assertThat(value).as("prediction of %s in %s", id, Topics.PREDICTIONS).isNotNull();
        return JsonSerde.serdeFor(Prediction.class).deserialize(Topics.PREDICTIONS, value);
    }

    /** The newest window's row per class, as the topic holds them. */
    private static Map<String, ClassAccuracy> newestRows() {
        final Map<String, ClassAccuracy> newest = new HashMap<>();
        readAll(Topics.ACCURACY).forEach(value -> {
            final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(Topics.ACCURACY, value);
            final ClassAccuracy current = newest.get(row.trueClass());
            if (current == null || row.windowStart() >= current.windowStart()) {
                newest.put(row.trueClass(), row);
            }
        });
        return newest;
    }

    /** Every committed record of a topic, by key (the last one for a key that repeats). */
    private static Map<String, byte[]> read(final String topic) {
        final Map<String, byte[]> byKey = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            consumer.subscribe(List.of(topic));
            drain(consumer, record -> byKey.put(record.key(), record.value()));
        }
        return byKey;
    }

    private static List<byte[]> readAll(final String topic) {
        final List<byte[]> values = new java.util.ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            consumer.subscribe(List.of(topic));
            drain(consumer, record -> values.add(record.value()));
        }
        return values;
    }

    private static void drain(final KafkaConsumer<String, byte[]> consumer,
            final java.util.function.Consumer<org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]>> each) {
        while (consumer.assignment().isEmpty()) {
            consumer.poll(Duration.ofMillis(100)).forEach(each);
        }
        final var end = consumer.endOffsets(consumer.assignment());
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            consumer.poll(Duration.ofMillis(100)).forEach(each);
        }
    }

    private static KafkaConsumer<String, byte[]> consumer() {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaClusterExtension.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dashboard-test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }
}
