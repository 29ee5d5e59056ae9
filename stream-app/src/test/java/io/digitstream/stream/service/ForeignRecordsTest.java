package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.releases.Replication;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.TestClients;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.topology.StreamMetrics;

/**
 * Another client writing to the app's output topics: the dashboard and the consume command skip what
 * is not the app's and go on. On a broker of its own, so the shared one's topics stay clean.
 */
class ForeignRecordsTest {

    @TempDir
    Path dir;

    private EmbeddedKafkaBroker broker;

    @BeforeEach
    void startBroker() {
        broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"));
        TopicSetup.ensureTopics(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), 1,
                Replication.FOLLOW_CLUSTER);
        try (KafkaProducer<String, String> producer = TestClients.producer(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            producer.send(new ProducerRecord<>(Topics.PREDICTIONS, "fake", "not a prediction"));
            producer.send(new ProducerRecord<>(Topics.PREDICTIONS, "tombstone", null));
            producer.send(new ProducerRecord<>(Topics.PREDICTIONS, "p-1", TestFixtures.json(
                    new Prediction("p-1", 3, 0.9f, new float[10], "v1", 3, true, 1L, 2L))));
            producer.send(new ProducerRecord<>(Topics.ACCURACY, "7", "{\"total\":3}"));
            producer.send(new ProducerRecord<>(Topics.ACCURACY, "8", "\u0000garbage"));
            producer.send(new ProducerRecord<>(Topics.ACCURACY, "3", TestFixtures.json(
                    new ClassAccuracy("3", 0, 60_000, 1, 1, 1.0, new long[10], "v1"))));
        }
    }

    @AfterEach
    void stopBroker() throws java.io.IOException {
        broker.close();
        Utils.delete(dir.resolve("kafka").toFile());
    }

    @Test
    void theDashboardShowsTheAppsRecordsAndSkipsTheRest() throws Exception {
        final StreamMetrics metrics = new StreamMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try (DashboardFeed feed = new DashboardFeed(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers()), metrics, new RecentImages(),
                () -> new DashboardFeed.Models("v1", null, null))) {
            await().atMost(Duration.ofMinutes(1)).until(() -> feed.prediction("p-1") != null
                    && !feed.snapshot().accuracy().isEmpty());
            assertThat(feed.prediction("fake")).isNull();
            final DashboardFeed.Snapshot snapshot = feed.snapshot();
            assertThat(snapshot.accuracy()).extracting(ClassAccuracy::trueClass).containsExactly("3");
            assertThat(snapshot.recent()).extracting(DashboardFeed.RecentPrediction::id).containsExactly("p-1");
        }
    }

    @Test
    void theConsumeCommandSkipsWhatItCannotReadAndSaysSo() {
        final String table = TestFixtures.runForOutput("consume", "--bootstrap-servers", broker.bootstrapServers(),
                "--from-beginning");
        final String rows = TestFixtures.runForOutput("consume", "--bootstrap-servers", broker.bootstrapServers(),
                "--from-beginning", "--topic", "accuracy");

        assertThat(table.lines()).hasSize(2).last().asString().startsWith("p-1");
        assertThat(rows.lines()).hasSize(2).last().asString().startsWith("3");
    }
}
