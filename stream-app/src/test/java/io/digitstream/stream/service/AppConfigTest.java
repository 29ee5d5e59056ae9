package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppConfigTest {

    @TempDir
    Path dir;

    @Test
    void flagsOverrideEnvironmentWhichOverridesTheFile() throws Exception {
        final Path file = dir.resolve("app.properties");
        Files.writeString(file, """
                inference.batch.size=32
                inference.batch.wait.ms=7
                http.port=9000
                security.protocol=SSL
                """);

        final AppConfig config = AppConfig.load(file,
                Map.of("DIGITS_INFERENCE_BATCH_SIZE", "64", "DIGITS_HTTP_PORT", "9100", "PATH", "/usr/bin"),
                Map.of("http.port", "9200"));

        assertThat(config.topology().batchSize()).isEqualTo(64);
        assertThat(config.topology().batchWait()).isEqualTo(Duration.ofMillis(7));
        assertThat(config.httpPort()).isEqualTo(9200);
        assertThat(config.kafka()).containsEntry("security.protocol", "SSL").doesNotContainKey("path")
                .doesNotContainKey("http.port");
    }

    @Test
    void guardsAgainstUntrustedClientsByDefault() {
        final AppConfig defaults = AppConfig.load(null, Map.of(), Map.of());
        assertThat(defaults.http()).isEqualTo(new HttpSettings("localhost", 8080, true, 20, Duration.ofMinutes(1),
                Duration.ofSeconds(10)));
        assertThat(defaults.topology().maxClockSkew()).isEqualTo(Duration.ofMinutes(5));
        assertThat(defaults.topology().maxPendingJoins()).isEqualTo(200_000);

        final AppConfig open = AppConfig.load(null, Map.of("DIGITS_HTTP_HOST", "0.0.0.0"), Map.of(
                "http.classify.enabled", "false", "http.classify.rate", "5", "health.stuck.after.ms", "5000",
                "image.max.clock.skew.ms", "0", "label.join.max.pending", "10"));
        assertThat(open.http()).isEqualTo(new HttpSettings("0.0.0.0", 8080, false, 5, Duration.ofSeconds(5),
                Duration.ofSeconds(10)));
        assertThat(open.topology().maxClockSkew()).isZero();
        assertThat(open.topology().maxPendingJoins()).isEqualTo(10);
        assertThat(open.kafka()).doesNotContainKeys("http.host", "image.max.clock.skew.ms", "label.join.max.pending");
    }

    @Test
    void kafkaPropertiesPassThroughUnderTheAppsDefaults() {
        final AppConfig config = AppConfig.load(null, Map.of(), Map.of(
                "bootstrap.servers", "kafka:9092",
                "processing.guarantee", "at_least_once",
                "sasl.mechanism", "PLAIN",
                "producer.linger.ms", "50"));

        final Properties props = config.streamsProperties();

        assertThat(config.embeddedBroker()).isFalse();
        assertThat(props).containsEntry("bootstrap.servers", "kafka:9092")
                .containsEntry("processing.guarantee", "at_least_once")
                .containsEntry("sasl.mechanism", "PLAIN")
                .containsEntry("producer.linger.ms", "50")
                .containsEntry("producer.batch.size", "262144")
                .containsEntry("consumer.receive.buffer.bytes", "4194304")
                .containsEntry("application.id", "digit-stream");
        assertThat(AppConfig.load(null, Map.of(), Map.of("consumer.receive.buffer.bytes", "-1")).streamsProperties())
                .containsEntry("consumer.receive.buffer.bytes", "-1");
    }

    @Test
    void theStreamThreadsGroupSettingsStayWithKafkaStreams() {
        final AppConfig config = AppConfig.load(null, Map.of(), Map.of("group.protocol", "streams",
                "group.instance.id", "pod-0", "security.protocol", "SSL"));
        assertThat(config.streamsProperties()).containsEntry("group.protocol", "streams")
                .containsEntry("group.instance.id", "pod-0");
        // The app's own consumers (dashboard, model follower) are plain consumers in no group of Streams'.
        assertThat(config.consumerConfig()).doesNotContainKeys("group.protocol", "group.instance.id")
                .containsEntry("security.protocol", "SSL");
    }

    @Test
    void defaultsAreExactlyOnceOnTheEmbeddedBrokerWithGraceCoveringTheLabelJoin() {
        final AppConfig config = AppConfig.load(null, Map.of(), Map.of());

        assertThat(config.embeddedBroker()).isTrue();
        assertThat(config.streamsProperties()).containsEntry("processing.guarantee", "exactly_once_v2")
                .containsEntry("max.task.idle.ms", "-1");
        assertThat(config.topology().accuracyGrace()).isEqualTo(config.topology().labelJoinWindow());
        assertThat(config.topology().accuracyAdvance()).isLessThan(config.topology().accuracyWindow());
        assertThat(config.topology().overlapInference()).isTrue();
        assertThat(AppConfig.load(null, Map.of("DIGITS_INFERENCE_OVERLAP", " FALSE "), Map.of()).topology()
                .overlapInference()).isFalse();
    }

    @Test
    void producersLingerUpToTheCommitUnderExactlyOnceOnly() {
        assertThat(AppConfig.load(null, Map.of(), Map.of()).streamsProperties())
                .containsEntry("producer.linger.ms", "300");
        assertThat(AppConfig.load(null, Map.of(), Map.of(AppConfig.BACKLOG_COMMIT_MS, "100")).streamsProperties())
                .containsEntry("producer.linger.ms", "100");
        assertThat(AppConfig.load(null, Map.of(), Map.of("processing.guarantee", "at_least_once"))
                .streamsProperties()).containsEntry("producer.linger.ms", "5");
    }

    @Test
    void underExactlyOnceKafkaStreamsCommitsAtTheLongerIntervalAndTheAppAsksAtTheShorter() {
        final AppConfig defaults = AppConfig.load(null, Map.of(), Map.of());
        assertThat(defaults.streamsProperties()).containsEntry("commit.interval.ms", "300");
        assertThat(defaults.topology().commitInterval()).isEqualTo(Duration.ofMillis(100));

        final AppConfig longer = AppConfig.load(null, Map.of("DIGITS_COMMIT_INTERVAL_MS", "250"), Map.of());
        assertThat(longer.streamsProperties()).containsEntry("commit.interval.ms", "300");
        assertThat(longer.topology().commitInterval()).isEqualTo(Duration.ofMillis(250));

        final AppConfig off = AppConfig.load(null, Map.of(), Map.of("commit.interval.ms", "500"));
        assertThat(off.streamsProperties()).containsEntry("commit.interval.ms", "500");
        assertThat(off.topology().commitInterval()).isNull();

        final AppConfig atLeastOnce = AppConfig.load(null, Map.of(), Map.of("processing.guarantee", "at_least_once"));
        assertThat(atLeastOnce.streamsProperties()).doesNotContainKey("commit.interval.ms");
        assertThat(atLeastOnce.topology().commitInterval()).isNull();
    }

    @Test
    void badValuesSayWhichSettingIsWrong() {
        assertThatThrownBy(() -> AppConfig.load(null, Map.of("DIGITS_INFERENCE_BATCH_SIZE", "lots"), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("inference.batch.size must be a whole number, got 'lots'");
        assertThatThrownBy(() -> AppConfig.load(null, Map.of(), Map.of(AppConfig.OVERLAP_INFERENCE, "maybe")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("inference.overlap must be true or false, got 'maybe'");
        assertThatThrownBy(() -> AppConfig.load(null, Map.of(), Map.of("accuracy.advance.ms", "600000")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("advance");
        assertThatThrownBy(() -> AppConfig.load(dir.resolve("missing.properties"), Map.of(), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot read config file");
    }
}
