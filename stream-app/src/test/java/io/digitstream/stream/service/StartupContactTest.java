package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.stream.AppProcess;
import io.digitstream.stream.BrokerProcess;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;

/**
 * What an instance does when its cluster is not there, or not what it asks for, at start: it says
 * so in a sentence naming the setting to change, and waits for a broker as long as it is told to.
 */
@ExtendWith(KafkaClusterExtension.class)
class StartupContactTest {

    @TempDir
    Path dir;

    @Test
    void anInstanceThatReachesNoBrokerSaysSoAndGivesUpWhenToldTo() {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "nobody");
        final String nobody = "127.0.0.1:" + BrokerProcess.freePort();
        settings.put(AppConfig.BOOTSTRAP_SERVERS, nobody);
        settings.put(AppConfig.STARTUP_WAIT_MS, "3000");
        assertThatThrownBy(() -> StreamService.start(AppConfig.load(null, Map.of(), settings)).close())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("no Kafka broker answered at " + nobody + " within ")
                .hasMessageContaining("check bootstrap.servers");
    }

    @Test
    void anInstanceStartedBeforeItsBrokerWaitsAndThenServes() throws Exception {
        final int port = BrokerProcess.freePort();
        final Map<String, String> settings = TestFixtures.appSettings(dir, "early");
        settings.put(AppConfig.BOOTSTRAP_SERVERS, "127.0.0.1:" + port);
        // The broker comes some seconds after the app; the app keeps trying meanwhile.
        final CompletableFuture<BrokerProcess> broker = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(8_000);
                return BrokerProcess.start(dir.resolve("broker"), port);
            } catch (final Exception e) {
                throw new CompletionException(e);
            }
        });
        try (AppProcess app = AppProcess.start(settings)) {
            assertThat(app.get("/health")).contains("\"status\":\"UP\"");
            assertThat(app.output()).anySatisfy(line -> assertThat(line)
                    .contains("No Kafka broker answers at 127.0.0.1:" + port + " yet")
                    .contains("trying again until one does"));
        } finally {
            broker.get().close();
        }
    }

    @Test
    void aReplicationFactorLargerThanTheClusterIsAClearError() {
        final Map<String, String> settings = TestFixtures.appSettings(dir, "too-many-replicas");
        settings.put(AppConfig.REPLICATION_FACTOR, "3");
        assertThatThrownBy(() -> StreamService.start(AppConfig.load(null, Map.of(), settings)).close())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("topic.replication.factor is 3 but the cluster has 1 broker: set"
                        + " topic.replication.factor to 1 or fewer (or leave it unset to follow the cluster),"
                        + " or start more brokers");
    }
}
