package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.schemas.Topics;
import io.digitstream.stream.PredictionLog;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.cli.StreamApp;

/**
 * The app, the CLI clients and the model commands on a SASL_SSL broker (SCRAM-SHA-512 over TLS,
 * the StandardAuthorizer): the app works with only the ACLs docs/security.md lists; a wrong
 * password or a missing ACL ends the app or the command with one line naming what is wrong.
 */
class SecuredAccessTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final String APP_USER = "digit-stream";
    private static final String APP_PASSWORD = "app-secret";

    @TempDir
    static Path dir;
    private static SecureKafka security;
    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startSecuredBroker() {
        security = SecureKafka.in(dir.resolve("tls"));
        broker = EmbeddedKafkaBroker.start(dir.resolve("broker"), 0, security);
        // A producer that may only write images and labels.
        security.grant(broker.bootstrapServers(), "producer", "producer-secret", List.of(
                allow(Topics.IMAGES, AclOperation.WRITE), allow(Topics.LABELS, AclOperation.WRITE)));
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void theAppRunsWithOnlyTheDocumentedAclsAndClientsWithTheirOwn() throws Exception {
        final Map<String, String> settings = appSettings("secured", APP_USER, APP_PASSWORD);
        security.grant(broker.bootstrapServers(), APP_USER, APP_PASSWORD,
                AppAcls.of("User:" + APP_USER, settings.get("application.id"), true));
        try (StreamService app = StreamService.start(AppConfig.load(null, Map.of(), settings));
                PredictionLog predictions = new PredictionLog(broker.bootstrapServers(), "secured-",
                        security.adminConfig())) {
            app.awaitRunning(TIMEOUT);
            // The CLI as the producer user, its settings in a file as Kafka's own tools take them.
            assertThat(StreamApp.run("produce", "--bootstrap-servers", broker.bootstrapServers(), "--client-config",
                    clientFile("producer", "producer-secret").toString(), "--cache-dir",
                    TestFixtures.MNIST_CACHE_DIR.toString(), "--limit", "200", "--rate", "0", "--id-prefix",
                    "secured")).isZero();
            predictions.awaitAtLeast(200, TIMEOUT);
            assertThat(predictions.duplicates()).isZero();
            assertThat(app.fatal()).isNotDone();
            // The model commands as the app's user: a release published through TLS reaches the app.
            final String appClient = clientFile(APP_USER, APP_PASSWORD).toString();
            final Path v2 = TestFixtures.saveModel(dir.resolve("v2"), "secured-model-2");
            assertThat(TestFixtures.runForOutput("model", "publish", v2.toString(), "--bootstrap-servers",
                    broker.bootstrapServers(), "--client-config", appClient)).contains("live: secured-model-2");
            await().atMost(TIMEOUT).until(() -> "secured-model-2".equals(app.modelVersion()));
            assertThat(TestFixtures.runForOutput("model", "list", "--bootstrap-servers", broker.bootstrapServers(),
                    "--client-config", appClient)).contains(TestFixtures.MODEL_VERSION).contains("secured-model-2");
        }
    }

    @Test
    void aWrongPasswordIsOneClearLineAtOnce() throws Exception {
        final Map<String, String> settings = appSettings("wrong-password", APP_USER, "not-the-password");
        final long started = System.nanoTime();
        assertThatThrownBy(() -> StreamService.start(AppConfig.load(null, Map.of(), settings)).close())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("Kafka refused the credentials: Authentication failed")
                .hasMessageContaining("docs/security.md");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));

        final String err = TestFixtures.runForErrors(StreamApp.EXIT_FAILURE, "produce", "--bootstrap-servers",
                broker.bootstrapServers(), "--client-config", clientFile("producer", "wrong").toString(),
                "--cache-dir", TestFixtures.MNIST_CACHE_DIR.toString(), "--limit", "5", "--rate", "0");
        assertThat(err.lines().toList()).singleElement().asString()
                .startsWith("stream-app produce: Kafka refused the credentials: Authentication failed");
    }

    @Test
    void aMissingAclIsOneClearLineNamingWhatIsRefused() throws Exception {
        // Every ACL of the app but its group's: Kafka Streams cannot join, and the app stops saying so.
        final Map<String, String> settings = appSettings("no-group", "no-group", "no-group-secret");
        final String applicationId = settings.get("application.id");
        security.grant(broker.bootstrapServers(), "no-group", "no-group-secret",
                AppAcls.of("User:no-group", applicationId, true).stream()
                        .filter(acl -> acl.pattern().resourceType() != ResourceType.GROUP).toList());
        try (StreamService app = StreamService.start(AppConfig.load(null, Map.of(), settings))) {
            assertThat(app.fatal().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                    .startsWith("Kafka refused an operation no ACL allows: ")
                    .contains(applicationId).contains("docs/security.md");
        }

        // A user without any ACL may not write images.
        security.grant(broker.bootstrapServers(), "nobody", "nobody-secret", List.of());
        final String err = TestFixtures.runForErrors(StreamApp.EXIT_FAILURE, "produce", "--bootstrap-servers",
                broker.bootstrapServers(), "--client-config", clientFile("nobody", "nobody-secret").toString(),
                "--cache-dir", TestFixtures.MNIST_CACHE_DIR.toString(), "--limit", "5", "--rate", "0");
        assertThat(err.lines().toList()).singleElement().asString().isEqualTo("stream-app produce: Kafka refused"
                + " an operation no ACL allows: Not authorized to access topics: [" + Topics.IMAGES + "]"
                + " (the ACLs needed are in docs/security.md)");
    }

    /** An app of its own on the secured broker, as {@code user}. */
    private Map<String, String> appSettings(final String name, final String user, final String password) {
        final Map<String, String> settings = TestFixtures.appSettings(dir.resolve(name), name);
        settings.put(AppConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        security.clientConfig(user, password).forEach((key, value) -> settings.put(key, value.toString()));
        return settings;
    }

    private static Path clientFile(final String user, final String password) throws IOException {
        final Properties props = new Properties();
        security.clientConfig(user, password).forEach((key, value) -> props.setProperty(key, value.toString()));
        final Path file = Files.createTempFile(dir, user, ".properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            props.store(out, null);
        }
        return file;
    }

    private static AclBinding allow(final String topic, final AclOperation operation) {
        return new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL),
                new AccessControlEntry("User:producer", "*", operation, AclPermissionType.ALLOW));
    }
}
