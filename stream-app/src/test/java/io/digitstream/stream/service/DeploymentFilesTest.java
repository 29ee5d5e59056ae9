package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.topology.StreamMetrics;

/**
 * Docker does not run on the build machines, so docker-compose.yml and the deploy/ files are
 * checked here against the code: files, ports, environment, topics and metric names.
 */
class DeploymentFilesTest {

    private static final Path ROOT = Path.of("..");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static JsonNode compose;

    @BeforeAll
    static void readCompose() throws IOException {
        compose = YAML.readTree(ROOT.resolve("docker-compose.yml").toFile());
    }

    @Test
    void everyFileTheComposeFileAndDockerfileReferToExists() throws IOException {
        final List<String> missing = new ArrayList<>();
        compose.get("services").properties().forEach(service -> {
            final JsonNode build = service.getValue().get("build");
            if (build != null) {
                final Path context = ROOT.resolve(build.get("context").asText());
                final String dockerfile = build.has("dockerfile") ? build.get("dockerfile").asText() : "Dockerfile";
                if (!Files.isRegularFile(context.resolve(dockerfile))) {
                    missing.add(service.getKey() + ": " + context.resolve(dockerfile));
                }
            }
            final JsonNode volumes = service.getValue().get("volumes");
            if (volumes != null) {
                volumes.forEach(volume -> {
                    final String source = volume.asText().split(":")[0];
                    if (source.startsWith("./") && !Files.exists(ROOT.resolve(source))) {
                        missing.add(service.getKey() + ": " + source);
                    }
                });
            }
        });
        final String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        final Matcher copies = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(dockerfile);
        while (copies.find()) {
            if (!Files.exists(ROOT.resolve(copies.group(1)))) {
                missing.add("Dockerfile COPY " + copies.group(1));
            }
        }
        // Maven reads every module the root pom names, built or not.
        final Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(
                ROOT.resolve("pom.xml")));
        while (modules.find()) {
            final String module = modules.group(1);
            if (!dockerfile.contains("COPY " + module + " ") && !dockerfile.contains("COPY " + module + "/pom.xml ")) {
                missing.add("Dockerfile COPY of module " + module);
            }
        }
        assertThat(missing).isEmpty();
        assertThat(Files.isExecutable(ROOT.resolve("deploy/train-once.sh"))).isTrue();
    }

    @Test
    void runtimeImagesAreDebianWithNd4jOffHeapCappedUnderTheContainerLimit() throws IOException {
        final String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        final List<String> bases = dockerfile.lines().filter(line -> line.startsWith("FROM ")).toList();
        assertThat(bases).noneMatch(line -> line.toLowerCase(Locale.ROOT).contains("alpine"));
        assertThat(bases).anyMatch(line -> line.startsWith("FROM debian:"));
        final long maxPhysical = megabytes(dockerfile, "maxphysicalbytes");
        for (final String service : List.of("trainer", "stream-app")) {
            final String limit = compose.at("/services/" + service + "/mem_limit").asText();
            assertThat(limit).as(service + " mem_limit").endsWith("g");
            assertThat(maxPhysical).as("javacpp.maxphysicalbytes under %s's limit", service)
                    .isLessThan(Long.parseLong(limit.replace("g", "")) * 1024);
        }
        assertThat(megabytes(dockerfile, "maxbytes")).isLessThan(maxPhysical);
    }

    @Test
    void streamAppEnvironmentIsSettingsTheAppKnows() {
        final JsonNode env = compose.at("/services/stream-app/environment");
        final Map<String, String> settings = new java.util.HashMap<>();
        env.properties().forEach(variable -> settings.put(variable.getKey(), variable.getValue().asText()));
        final AppConfig config = knownSettings(settings);

        assertThat(config.bootstrapServers()).isEqualTo("kafka:9092");
        assertThat(compose.at("/services/kafka/environment/KAFKA_ADVERTISED_LISTENERS").asText())
                .contains("PLAINTEXT://" + config.bootstrapServers());
        assertThat(compose.at("/services/stream-app/ports/0").asText()).isEqualTo(config.httpPort() + ":" + config.httpPort());
        assertThat(config.http().host()).as("published from the container").isEqualTo("0.0.0.0");
        assertThat(compose.at("/services/stream-app/healthcheck/test").toString())
                .contains("http://localhost:" + config.httpPort() + "/health");
        assertThat(compose.at("/services/demo-producer/command").toString()).contains("kafka:9092");
    }

    @Test
    void composeCreatesExactlyTheAppsTopicsAndPrometheusScrapesTheApp() throws IOException {
        final String topicsCommand = compose.at("/services/topics/command/0").asText();
        final Matcher loop = Pattern.compile("for topic in ([^;]+);").matcher(topicsCommand);
        assertThat(loop.find()).isTrue();
        assertThat(List.of(loop.group(1).trim().split("\\s+"))).containsExactlyInAnyOrderElementsOf(Topics.ALL);
        assertThat(topicsCommand).contains("--partitions " + AppConfig.DEFAULTS.get(AppConfig.PARTITIONS));

        final JsonNode prometheus = YAML.readTree(ROOT.resolve("deploy/prometheus/prometheus.yml").toFile());
        final String target = prometheus.at("/scrape_configs/0/static_configs/0/targets/0").asText();
        assertThat(target).isEqualTo("stream-app:" + compose.at("/services/stream-app/environment/DIGITS_HTTP_PORT").asText());
        assertThat(prometheus.at("/scrape_configs/0/metrics_path").asText()).isEqualTo("/metrics");
        final JsonNode datasource = YAML.readTree(
                ROOT.resolve("deploy/grafana/provisioning/datasources/prometheus.yml").toFile());
        assertThat(datasource.at("/datasources/0/url").asText()).isEqualTo("http://prometheus:9090");
    }

    @Test
    void grafanaDashboardQueriesOnlyMetricsTheAppExports() throws IOException {
        final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        final StreamMetrics metrics = new StreamMetrics(registry);
        metrics.modelVersion("v1");
        metrics.imageIn();
        metrics.batch(8, 1_000_000);
        metrics.prediction(3, 0.9, 12);
        metrics.stages(2, 5, 5);
        metrics.deadLetter("wrong-size");
        metrics.labelUnmatched();
        metrics.predictionNeverLabeled();
        metrics.pending("0_0", 1, 1);
        metrics.accuracy(new ClassAccuracy("all", 0, 1, 1, 1, 1.0, new long[10], "v1"));
        metrics.shadowPrediction(true);
        final ModelMetrics models = new ModelMetrics(registry);
        models.switched();
        models.refused("bad-sha256");
        models.served(800);
        final String scrape = registry.scrape();

        final JsonNode dashboard = new ObjectMapper().readTree(
                ROOT.resolve("deploy/grafana/dashboards/digit-stream.json").toFile());
        final List<String> unknown = new ArrayList<>();
        final Matcher names = Pattern.compile("\\b((?:digits|jvm)_[a-z_]+)").matcher(dashboard.toString());
        while (names.find()) {
            if (!scrape.contains(names.group(1))) {
                unknown.add(names.group(1));
            }
        }
        assertThat(dashboard.get("panels")).isNotEmpty();
        assertThat(unknown).isEmpty();
    }

    @Test
    void theClusterOverrideRunsThreeNodesInOneQuorumAndReplicatesEverythingToThree() throws IOException {
        final JsonNode cluster = YAML.readTree(ROOT.resolve("docker-compose.cluster.yml").toFile());
        final List<String> nodes = List.of("kafka", "kafka-2", "kafka-3");
        final String voters = cluster.at("/services/kafka/environment/KAFKA_CONTROLLER_QUORUM_VOTERS").asText();
        final Set<String> ids = new java.util.HashSet<>();
        for (final String node : nodes) {
            final JsonNode env = cluster.at("/services/" + node + "/environment");
            final String id = env.has("KAFKA_NODE_ID") ? env.get("KAFKA_NODE_ID").asText()
                    : compose.at("/services/" + node + "/environment/KAFKA_NODE_ID").asText();
            assertThat(ids.add(id)).as("node id %s of %s is its own", id, node).isTrue();
            assertThat(voters).contains(id + "@" + node + ":9093");
            assertThat(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS").asText()).isEqualTo(voters);
            assertThat(env.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR").asText()).isEqualTo("3");
            assertThat(env.get("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR").asText()).isEqualTo("2");
            assertThat(env.get("KAFKA_MIN_INSYNC_REPLICAS").asText()).isEqualTo("2");
        }
        final String bootstrap = cluster.at("/services/stream-app/environment/DIGITS_BOOTSTRAP_SERVERS").asText();
        assertThat(bootstrap.split(",")).containsExactly("kafka:9092", "kafka-2:9092", "kafka-3:9092");
        final String topicsCommand = cluster.at("/services/topics/command/0").asText();
        // The same topics as the one-node file, replicated to three with two in sync.
        assertThat(topicsCommand.replace("--replication-factor 3 --config min.insync.replicas=2",
                "--replication-factor 1")).isEqualTo(compose.at("/services/topics/command/0").asText());
    }

    @Test
    void theKubernetesManifestsRunTheAppAsItExpects() throws IOException {
        final Map<String, JsonNode> byKind = new java.util.HashMap<>();
        try (var documents = YAML.readerFor(JsonNode.class).<JsonNode>readValues(
                ROOT.resolve("deploy/k8s/stream-app.yaml").toFile())) {
            documents.forEachRemaining(document -> byKind.put(document.get("kind").asText() + "/"
                    + document.at("/metadata/name").asText(), document));
        }
        final JsonNode set = byKind.get("StatefulSet/digit-stream");
        final JsonNode container = set.at("/spec/template/spec/containers/0");
        final Map<String, String> settings = new java.util.HashMap<>();
        container.get("env").forEach(variable -> {
            if (variable.has("value")) {
                settings.put(variable.get("name").asText(), variable.get("value").asText());
            } else {
                // The pod's own name, one group.instance.id per pod that outlives its restarts.
                assertThat(variable.get("name").asText()).isEqualTo("DIGITS_GROUP_INSTANCE_ID");
                assertThat(variable.at("/valueFrom/fieldRef/fieldPath").asText()).isEqualTo("metadata.name");
                settings.put(variable.get("name").asText(), "digit-stream-0");
            }
        });
        final AppConfig config = knownSettings(settings);
        assertThat(config.kafka()).containsEntry("group.instance.id", "digit-stream-0");
        assertThat(config.http().host()).isEqualTo("0.0.0.0");
        assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(config.httpPort());
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/health/ready");
        assertThat(container.at("/readinessProbe/httpGet/port").asText())
                .isEqualTo(container.at("/ports/0/name").asText());
        assertThat(set.at("/spec/template/metadata/annotations/prometheus.io~1port").asText())
                .isEqualTo(Integer.toString(config.httpPort()));
        // The state directory is the pod's own volume: its instance id and state survive a restart.
        final String state = config.streamsProperties().getProperty(StreamsConfig.STATE_DIR_CONFIG);
        assertThat(container.get("volumeMounts")).anySatisfy(mount -> {
            assertThat(mount.get("mountPath").asText()).isEqualTo(state);
            assertThat(set.at("/spec/volumeClaimTemplates/0/metadata/name").asText())
                    .isEqualTo(mount.get("name").asText());
        });
        assertThat(Files.readString(ROOT.resolve("Dockerfile"))).contains(" AS stream-app");
        for (final String service : List.of("Service/digit-stream", "Service/digit-stream-pods",
                "PodDisruptionBudget/digit-stream")) {
            assertThat(byKind.get(service).at("/spec/selector").toString()).as(service)
                    .contains(set.at("/spec/template/metadata/labels/app").asText());
        }
        assertThat(byKind.get("StatefulSet/digit-stream").at("/spec/serviceName").asText())
                .isEqualTo("digit-stream-pods");
    }

    /** Loads {@code env} as the app does, after checking each variable names a setting it knows. */
    private static AppConfig knownSettings(final Map<String, String> env) {
        final Set<String> known = new java.util.HashSet<>(AppConfig.APP_KEYS);
        known.add(AppConfig.BOOTSTRAP_SERVERS);
        known.addAll(StreamsConfig.configDef().names());
        known.addAll(ProducerConfig.configNames());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());
        env.keySet().forEach(variable -> {
            assertThat(variable).startsWith(AppConfig.ENV_PREFIX);
            final String key = variable.substring(AppConfig.ENV_PREFIX.length()).toLowerCase(Locale.ROOT)
                    .replace('_', '.');
            assertThat(known).as("setting %s from %s", key, variable).contains(key);
        });
        return AppConfig.load(null, env, Map.of());
    }

    private static long megabytes(final String dockerfile, final String property) {
        final Matcher m = Pattern.compile("javacpp\\." + property + "=(\\d+)m").matcher(dockerfile);
        assertThat(m.find()).as("javacpp.%s in the Dockerfile", property).isTrue();
        return Long.parseLong(m.group(1));
    }
}
