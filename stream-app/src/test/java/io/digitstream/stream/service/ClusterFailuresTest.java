package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.AppProcess;
import io.digitstream.stream.BrokerProcess;
import io.digitstream.stream.ClusterExtension;
import io.digitstream.stream.PredictionLog;
import io.digitstream.stream.SteadyImages;
import io.digitstream.stream.TestClients;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.cli.StreamApp;

/**
 * Failures on a real three-node cluster (each node its own process) under a steady stream of
 * labeled images: an app instance SIGKILLed and restarted, the broker leading an input partition
 * SIGKILLed and restarted, instances added and removed. Each time a read_committed reader sees
 * exactly one prediction per image and the accuracy rows count each labeled image once. Prints
 * what each failure cost in time without predictions (docs/operations.md has the figures).
 */
@Tag("cluster")
class ClusterFailuresTest {

    private static final int IMAGES = 10_000;
    private static final int RATE = 300;
    private static final long EVENT_TIME = System.currentTimeMillis() - Duration.ofDays(3).toMillis();
    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    /** A three-node cluster for each test; the broker command's test starts its own. */
    @RegisterExtension
    final ClusterExtension kafka = new ClusterExtension(3, "theBrokerCommand");

    @TempDir
    Path dir;

    @Test
    void theBrokerCommandStartsAThreeNodeClusterRestartsAKilledNodeAndStopsEveryNodeOnSigterm() throws Exception {
        final int port = BrokerProcess.freePort();
        final Process command = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), StreamApp.class.getName(), "broker",
                "--nodes", "3", "--port", Integer.toString(port), "--dir", dir.resolve("cli").toString()))
                .redirectErrorStream(true).start();
        final List<String> lines = new CopyOnWriteArrayList<>();
        final Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(command.getInputStream(),
                    StandardCharsets.UTF_8))) {
                out.lines().forEach(lines::add);
            } catch (final IOException e) {
                lines.add("(output unreadable: " + e.getMessage() + ")");
            }
        }, "broker-command-output");
        reader.setDaemon(true);
        reader.start();
        try {
            await().atMost(Duration.ofMinutes(2)).until(() -> lines.stream().anyMatch(l -> l.startsWith("Nodes ")));
            assertThat(lines).contains("Kafka cluster of 3 nodes on 127.0.0.1:" + port + ",127.0.0.1:" + (port + 1)
                    + ",127.0.0.1:" + (port + 2) + "; Ctrl-C to stop.");
            final List<ProcessHandle> nodes = command.toHandle().children().toList();
            assertThat(nodes).hasSize(3);
            assertThat(lines).anyMatch(l -> l.contains("2: pid " + nodes.get(1).pid()));
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + port))) {
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(3);
                // One node SIGKILLed: the command starts it again on its data, as a supervisor would.
                nodes.get(1).destroyForcibly();
                await().atMost(Duration.ofMinutes(2)).until(() -> lines.stream()
                        .anyMatch(l -> l.startsWith("Kafka node 2 serves again")));
                assertThat(lines).anyMatch(l -> l.startsWith("Kafka node 2 (pid " + nodes.get(1).pid() + ") ended"));
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(3);
            }
            final List<ProcessHandle> after = command.toHandle().children().toList();
            assertThat(after).hasSize(3).doesNotContain(nodes.get(1));
            command.toHandle().destroy();
            assertThat(command.waitFor(2, TimeUnit.MINUTES)).isTrue();
            assertThat(after).noneMatch(ProcessHandle::isAlive);
            assertThat(lines).noneMatch(l -> l.contains("did not start again"));
        } finally {
            command.destroyForcibly();
        }
    }

    @Test
    void theAppsTopicsAndItsInternalOnesAreReplicatedToThreeWithTwoInSync() throws Exception {
        final Map<String, String> settings = settings("replicated", 4);
        final String applicationId = settings.get("application.id");
        try (StreamService app = StreamService.start(AppConfig.load(null, Map.of(), settings));
                Admin admin = admin()) {
            app.awaitRunning(TIMEOUT);
            final Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            assertThat(topics).containsAll(Topics.ALL).contains(Topics.MODELS)
                    .anyMatch(topic -> topic.startsWith(applicationId) && topic.endsWith("-changelog"))
                    .anyMatch(topic -> topic.startsWith(applicationId) && topic.endsWith("-repartition"));
            final Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames()
                    .get(30, TimeUnit.SECONDS);
            final Map<ConfigResource, Config> configs = admin.describeConfigs(topics.stream()
                    .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList())
                    .all().get(30, TimeUnit.SECONDS);
            for (final String topic : topics) {
                assertThat(described.get(topic).partitions()).as(topic)
                        .allSatisfy(partition -> assertThat(partition.replicas()).hasSize(3));
                assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic))
                        .get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).value()).as(topic).isEqualTo("2");
            }
        }
    }

    /**
     * A user's first minute: a fresh cluster, two instances started together, and a stream of 150
     * images a second from the moment they are up. Every image is predicted once, and while images
     * wait longer than readiness allows, /health/ready says so; both instances are ready once caught
     * up. Prints each ten seconds' latencies and where the stream threads spent their time (the
     * figures are in docs/operations.md; the goal of steady latency within seconds is not met yet).
     */
    @Test
    void aFreshClustersFirstMinuteLosesNothingAndReadinessSaysWhileBehind() throws Exception {
        final Map<String, String> first = settings("fresh", 4);
        final Map<String, String> second = secondInstance(first);
        final String prefix = "fresh-";
        final int rate = 150;
        final int images = rate * 60;
        final ExecutorService starts = Executors.newFixedThreadPool(2);
        final Future<AppProcess> startingA = starts.submit(() -> AppProcess.start(first));
        final Future<AppProcess> startingB = starts.submit(() -> AppProcess.start(second));
        starts.shutdown();
        try (AppProcess a = startingA.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                AppProcess b = startingB.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                PredictionLog predictions = new PredictionLog(kafka.bootstrapServers(), prefix);
                KafkaProducer<String, String> producer = producer()) {
            final long began = System.currentTimeMillis();
            final List<String> notReady = new ArrayList<>();
            try (SteadyImages sending = SteadyImages.start(producer, prefix, images, rate, SteadyImages.SENT_AT)) {
                while (predictions.poll() < images && System.currentTimeMillis() - began < TIMEOUT.toMillis()) {
                    for (final AppProcess app : List.of(a, b)) {
                        final String answer = app.get("/health/ready");
                        if (answer.contains("\"NOT_READY\"")) {
                            notReady.add(String.format(Locale.ROOT, "%5.1f s %s %s",
                                    (System.currentTimeMillis() - began) / 1000.0, app == a ? "a" : "b", answer));
                        }
                    }
                }
                sending.awaitSent();
            }
            final String table = latencyTable(predictions, began);
            System.out.println(table);
            System.out.println(threadTimes(a));
            Files.write(Path.of("target", "fresh-cluster-a.log"), a.output());
            Files.write(Path.of("target", "fresh-cluster-b.log"), b.output());
            assertThat(predictions.count()).as("images predicted\n%s", table).isEqualTo(images);
            assertThat(predictions.duplicates()).isZero();
            final long slowest = predictions.predictions().stream()
                    .mapToLong(p -> p.processingTime() - p.eventTime()).max().orElseThrow();
            if (slowest > 15_000) {
                assertThat(notReady).as("readiness while images waited up to %d ms", slowest).isNotEmpty();
            }
            await().atMost(TIMEOUT).untilAsserted(() -> {
                assertThat(a.get("/health/ready")).contains("\"READY\"");
                assertThat(b.get("/health/ready")).contains("\"READY\"");
            });
        }
    }

    /** Latencies by ten seconds of sending: p50, p99 and the longest, from each image's send time. */
    private static String latencyTable(final PredictionLog predictions, final long began) {
        final Map<Long, List<Long>> byTen = new TreeMap<>();
        predictions.predictions().forEach(p -> byTen.computeIfAbsent((p.eventTime() - began) / 10_000,
                bucket -> new ArrayList<>()).add(p.processingTime() - p.eventTime()));
        final StringBuilder table = new StringBuilder("Fresh cluster, two instances, 150 images/s: latency by"
                + " ten seconds of sending (p50 / p99 / max, ms)\n");
        byTen.forEach((bucket, latencies) -> {
            latencies.sort(Long::compare);
            table.append(String.format(Locale.ROOT, "  %3d-%3d s  %6d / %6d / %6d%n", bucket * 10, bucket * 10 + 10,
                    latencies.get(latencies.size() / 2), latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1),
                    latencies.get(latencies.size() - 1)));
        });
        return table.toString();
    }

    /** The shares of time an instance's stream threads spent committing, punctuating, processing, polling. */
    private static String threadTimes(final AppProcess app) throws Exception {
        return "Stream threads' time: " + app.get("/metrics").lines()
                .filter(line -> line.matches("kafka_stream_thread_(commit|punctuate|process|poll)_ratio\\{.*"))
                .map(line -> line.replaceAll("^kafka_stream_thread_(\\w+)_ratio\\{.*} ", "$1 "))
                .collect(Collectors.joining(", "));
    }

    @ParameterizedTest(name = "standby replicas: {0}")
    @ValueSource(ints = {0, 1})
    void aKilledInstanceOfTwoIsRestartedAndNothingIsLostOrDuplicated(final int standbys) throws Exception {
        final Map<String, String> first = settings("instances", 4);
        first.put("num.standby.replicas", Integer.toString(standbys));
        final Map<String, String> second = secondInstance(first);
        final String prefix = "kill-" + standbys + "-";
        AppProcess a = null;
        AppProcess b = null;
        try {
            a = AppProcess.start(first);
            b = AppProcess.start(second);
            final AppProcess one = a;
            final AppProcess two = b;
            await().atMost(TIMEOUT).until(() -> !imagePartitions(one).isEmpty() && !imagePartitions(two).isEmpty());
            try (PredictionLog predictions = new PredictionLog(kafka.bootstrapServers(), prefix);
                    KafkaProducer<String, String> producer = producer();
                    SteadyImages images = SteadyImages.start(producer, prefix, IMAGES, RATE, EVENT_TIME)) {
                predictions.awaitAtLeast(3_000, TIMEOUT);
                final Set<Integer> killed = imagePartitions(b);
                final Set<Integer> others = IntStream.range(0, 4).boxed().filter(p -> !killed.contains(p))
                        .collect(Collectors.toSet());
                b.kill();
                final long killedAt = System.currentTimeMillis();
                b = AppProcess.start(second);
                final long upAt = System.currentTimeMillis();
                images.awaitSent();
                predictions.awaitAtLeast(IMAGES, TIMEOUT);
                predictions.poll();
                System.out.printf(Locale.ROOT, "Instance killed, %d standby replica(s): restarted app up %.1f s"
                        + " after the kill; longest gap on its partitions %s %.1f s, on the other's %s %.1f s%n",
                        standbys, (upAt - killedAt) / 1000.0, killed, predictions.longestGapSeconds(killed), others,
                        predictions.longestGapSeconds(others));
                assertThat(predictions.duplicates()).isZero();
                assertThat(predictions.count()).isEqualTo(IMAGES);
                assertThat(PredictionLog.countedInAccuracy(kafka.bootstrapServers(), EVENT_TIME, IMAGES, TIMEOUT))
                        .isEqualTo(IMAGES);
            }
        } finally {
            close(a);
            close(b);
        }
    }

    @Test
    void theBrokerLeadingAnImagesPartitionKilledAndRestartedCostsNothing() throws Exception {
        final String prefix = "broker-kill-";
        final AppProcess app = AppProcess.start(settings("broker-kill", 4));
        try (PredictionLog predictions = new PredictionLog(kafka.bootstrapServers(), prefix);
                KafkaProducer<String, String> producer = producer();
                SteadyImages images = SteadyImages.start(producer, prefix, IMAGES, RATE, EVENT_TIME);
                Admin admin = admin()) {
            predictions.awaitAtLeast(3_000, TIMEOUT);
            final int leader = leaders(admin).get(0);
            final Set<Integer> led = leaders(admin).entrySet().stream().filter(e -> e.getValue() == leader)
                    .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
            kafka.cluster().kill(leader);
            final long killedAt = System.currentTimeMillis();
            await().atMost(TIMEOUT).until(() -> predictions.poll() > 0 && predictions.firstAfter(killedAt) > 0
                    && !leaders(admin).containsValue(leader));
            final long newLeadersAt = System.currentTimeMillis();
            // Some time on two nodes before the third comes back.
            predictions.awaitAtLeast(Math.min(IMAGES, predictions.count() + 1_500), TIMEOUT);
            kafka.cluster().restart(leader);
            final long restartedAt = System.currentTimeMillis();
            await().atMost(TIMEOUT).until(() -> inEveryIsr(admin, leader));
            final long inSyncAt = System.currentTimeMillis();
            images.awaitSent();
            predictions.awaitAtLeast(IMAGES, TIMEOUT);
            predictions.poll();
            System.out.printf(Locale.ROOT, "Broker %d killed (it led %s of %s): new leaders within %.1f s;"
                    + " longest gap on those partitions %.1f s, on all %.1f s; restarted, back in every ISR"
                    + " %.1f s later%n", leader, led, Topics.IMAGES, (newLeadersAt - killedAt) / 1000.0,
                    predictions.longestGapSeconds(led), predictions.longestGapSeconds(Set.of(0, 1, 2, 3)),
                    (inSyncAt - restartedAt) / 1000.0);
            assertThat(app.isAlive()).isTrue();
            assertThat(app.get("/health")).contains("\"status\":\"UP\"");
            assertThat(predictions.duplicates()).isZero();
            assertThat(predictions.count()).isEqualTo(IMAGES);
            assertThat(PredictionLog.countedInAccuracy(kafka.bootstrapServers(), EVENT_TIME, IMAGES, TIMEOUT))
                    .isEqualTo(IMAGES);
        } finally {
            app.close();
        }
    }

    @Test
    void scalingFromOneInstanceToThreeAndBackUnderLoadLosesAndDuplicatesNothing() throws Exception {
        // 80 s of images: the two added instances' JVMs take half a minute to start and warm up.
        final int images = 24_000;
        final String prefix = "scale-";
        final Map<String, String> first = settings("scale", 6);
        // Each instance a JVM of its own, as on machines of their own (and with one OpenMP thread per
        // network, as ./run starts the app: three instances' networks in one JVM fought over the cores).
        final AppProcess one = AppProcess.start(first);
        try (PredictionLog predictions = new PredictionLog(kafka.bootstrapServers(), prefix);
                KafkaProducer<String, String> producer = producer();
                SteadyImages sent = SteadyImages.start(producer, prefix, images, RATE, EVENT_TIME)) {
            predictions.awaitAtLeast(2_000, TIMEOUT);
            final long outAt = System.currentTimeMillis();
            final List<AppProcess> added = new ArrayList<>();
            try {
                added.add(AppProcess.start(instance(first, "two")));
                added.add(AppProcess.start(instance(first, "three")));
                // Each new instance gets its tasks once it has warmed their state up.
                await().atMost(TIMEOUT).until(() -> {
                    predictions.poll();
                    for (final AppProcess app : added) {
                        if (imagePartitions(app).isEmpty()) {
                            return false;
                        }
                    }
                    return true;
                });
                System.out.printf(Locale.ROOT, "Scaled out to three instances: each held partitions %.1f s after"
                        + " they started (%s, %s and %s of %s)%n", (System.currentTimeMillis() - outAt) / 1000.0,
                        imagePartitions(one), imagePartitions(added.get(0)), imagePartitions(added.get(1)),
                        Topics.IMAGES);
                predictions.awaitAtLeast(Math.min(images, predictions.count() + 2_000), TIMEOUT);
            } finally {
                for (final AppProcess app : added) {
                    app.stop();
                }
            }
            await().atMost(TIMEOUT).until(() -> {
                predictions.poll();
                return imagePartitions(one).size() == 6;
            });
            sent.awaitSent();
            try {
                predictions.awaitAtLeast(images, TIMEOUT);
            } finally {
                System.out.println("Missing by partition: " + predictions.missing(images, 6));
            }
            predictions.poll();
            System.out.printf(Locale.ROOT, "Scaled 1 -> 3 -> 1 instances under load: longest gap on any of the"
                    + " six partitions %.1f s%n", predictions.longestGapSeconds(Set.of(0, 1, 2, 3, 4, 5)));
            assertThat(predictions.duplicates()).isZero();
            assertThat(predictions.count()).isEqualTo(images);
            assertThat(PredictionLog.countedInAccuracy(kafka.bootstrapServers(), EVENT_TIME, images, TIMEOUT))
                    .isEqualTo(images);
        } finally {
            one.close();
        }
    }

    /** An app on the cluster with {@code partitions} input partitions and day-long accuracy windows. */
    private Map<String, String> settings(final String name, final int partitions) {
        final Map<String, String> settings = TestFixtures.appSettings(dir, name);
        settings.put(AppConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        settings.put(AppConfig.PARTITIONS, Integer.toString(partitions));
        settings.put(AppConfig.ACCURACY_WINDOW_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_ADVANCE_MS, Long.toString(Duration.ofDays(1).toMillis()));
        settings.put(AppConfig.ACCURACY_GRACE_MS, Long.toString(Duration.ofDays(7).toMillis()));
        return settings;
    }

    /** Another instance of the same app: its own state directory, so its own instance id. */
    private Map<String, String> instance(final Map<String, String> settings, final String name) {
        final Map<String, String> own = new HashMap<>(settings);
        own.put("state.dir", dir.resolve("state-" + name).toString());
        return own;
    }

    private Map<String, String> secondInstance(final Map<String, String> settings) {
        return instance(settings, "second");
    }

    private KafkaProducer<String, String> producer() {
        return TestClients.producer(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    /** The digits.images partitions an instance owns, as its /api/summary says. */
    private static Set<Integer> imagePartitions(final AppProcess app) throws Exception {
        final JsonNode summary = JsonSerde.MAPPER.readTree(app.get("/api/summary"));
        final Set<Integer> owned = new TreeSet<>();
        summary.at("/instance/partitions").forEach(partition -> {
            final String name = partition.get("partition").asText();
            if (name.startsWith(Topics.IMAGES + "-")) {
                owned.add(Integer.parseInt(name.substring(Topics.IMAGES.length() + 1)));
            }
        });
        return owned;
    }

    /** The leader of each digits.images partition, -1 while it has none. */
    private static Map<Integer, Integer> leaders(final Admin admin) throws Exception {
        final TopicDescription images = admin.describeTopics(List.of(Topics.IMAGES)).allTopicNames()
                .get(30, TimeUnit.SECONDS).get(Topics.IMAGES);
        return images.partitions().stream().collect(Collectors.toMap(TopicPartitionInfo::partition,
                info -> info.leader() == null ? -1 : info.leader().id()));
    }

    /** Whether {@code node} is back in the in-sync replicas of every digits.images partition. */
    private static boolean inEveryIsr(final Admin admin, final int node) throws Exception {
        return admin.describeTopics(List.of(Topics.IMAGES)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(Topics.IMAGES).partitions().stream()
                .allMatch(info -> info.isr().stream().anyMatch(replica -> replica.id() == node));
    }

    private static void close(final AppProcess app) throws InterruptedException {
        if (app != null) {
            app.close();
        }
    }
}
