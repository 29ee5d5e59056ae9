package io.digitstream.stream.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelArtifactException;
import io.digitstream.releases.Releases;
import io.digitstream.releases.Replication;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.topology.ArrivalTimestamps;
import io.digitstream.stream.topology.ClassifierPool;
import io.digitstream.stream.topology.DeadLetters;
import io.digitstream.stream.topology.DigitStreamTopology;
import io.digitstream.stream.topology.StreamMetrics;

/**
 * The running stream app: the embedded broker when no cluster is configured, the topics, the model,
 * the topology on Kafka Streams and the HTTP endpoints. {@link #close()} stops them in reverse order.
 */
public final class StreamService implements AutoCloseable {

    /** A crashed stream thread is replaced this many times before the app gives up. */
    static final int MAX_THREAD_REPLACEMENTS = 3;
    /** The user the app runs as on its secured embedded broker. */
    public static final String APP_USER = "digit-stream";
    private static final String SECURE_BROKER_DIR = "data/kafka-secure";
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final JsonSerde<DigitImage> CANVAS_IMAGES = JsonSerde.serdeFor(DigitImage.class);
    /** How long closing waits for drawings still being sent. */
    private static final Duration CANVAS_SEND_TIMEOUT = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(StreamService.class);

    private final EmbeddedKafkaBroker broker;
    private final KafkaStreams streams;
    private final ClassifierPool classifiers;
    private final HttpEndpoints http;
    private final String bootstrapServers;
    private final JvmGcMetrics gcMetrics;
    private final StreamMetrics metrics;
    private final DashboardFeed feed;
    private final KafkaProducer<String, DigitImage> canvas;
    private final ProgressWatch progress;
    private final ModelFollower follower;
    private final ModelGovernor governor;
    private final CompletableFuture<String> fatal;
    private final SecureKafka security;

    private StreamService(final EmbeddedKafkaBroker broker, final KafkaStreams streams,
            final ClassifierPool classifiers, final HttpEndpoints http, final String bootstrapServers,
            final JvmGcMetrics gcMetrics, final StreamMetrics metrics, final DashboardFeed feed,
            final KafkaProducer<String, DigitImage> canvas, final ProgressWatch progress,
            final ModelFollower follower, final ModelGovernor governor, final CompletableFuture<String> fatal,
            final SecureKafka security) {
        this.broker = broker;
        this.streams = streams;
        this.classifiers = classifiers;
        this.http = http;
        this.bootstrapServers = bootstrapServers;
        this.gcMetrics = gcMetrics;
        this.metrics = metrics;
        this.feed = feed;
        this.canvas = canvas;
        this.progress = progress;
        this.follower = follower;
        this.governor = governor;
        this.fatal = fatal;
        this.security = security;
    }

    private static void publishLocal(final AppConfig config, final Replication replication, final Path model,
            final String instance) {
        new Releases(clientConfig(config), replication, instance + " (its local model, new to "
                + Topics.MODELS + ")").publish(model, false);
    }

    /** The settings of every kind of client the app has, for {@link Releases}' producer, consumer and admin. */
    private static Map<String, Object> clientConfig(final AppConfig config) {
        final Map<String, Object> clientConfig = new HashMap<>(config.consumerConfig());
        clientConfig.putAll(config.producerConfig());
        clientConfig.putAll(config.adminConfig());
        return clientConfig;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (final java.io.IOException e) {
            return "unknown-host";
        }
    }

    /** The partitions of the input topics this instance's stream threads are processing. */
    private static Set<TopicPartition> ownedInputs(final KafkaStreams streams) {
        if (streams.state() != KafkaStreams.State.RUNNING) {
            return Set.of();
        }
        final Set<TopicPartition> owned = new HashSet<>();
        streams.metadataForLocalThreads().forEach(thread -> thread.activeTasks().forEach(task ->
                task.topicPartitions().stream()
                        .filter(p -> p.topic().equals(Topics.IMAGES) || p.topic().equals(Topics.LABELS))
                        .forEach(owned::add)));
        return owned;
    }

    /** The producer of the drawing pad's images, with the client settings (security and the like) the app has. */
    private static KafkaProducer<String, DigitImage> canvasProducer(final AppConfig config) {
        return new KafkaProducer<>(config.producerConfig(), new StringSerializer(), CANVAS_IMAGES);
    }

    /**
     * The local model, checked before anything starts, or null when there is none at its path: the
     * live release on digits.models may serve instead. A model that is there but broken is an error.
     */
    private static DigitClassifier localModel(final Path location) {
        try {
            ModelArtifact.resolve(location);
        } catch (final ModelArtifactException e) {
            return null;
        }
        return DigitClassifier.load(location);
    }

    public static StreamService start(final AppConfig requested) {
        final StartupSteps steps = new StartupSteps();
        final DigitClassifier local = localModel(requested.model());
        steps.done("local model");
        EmbeddedKafkaBroker broker = null;
        ModelFollower follower = null;
        AppConfig config = requested;
        SecureKafka security = null;
        if (config.embeddedBroker() && config.secureBroker()) {
            // Its own directory by default: a broker's security is set when it is formatted.
            final Path dir = config.brokerDir().equals(Path.of(AppConfig.DEFAULTS.get(AppConfig.BROKER_DIR)))
                    ? Path.of(SECURE_BROKER_DIR) : config.brokerDir();
            security = SecureKafka.in(dir.resolveSibling(dir.getFileName() + "-tls"));
            broker = EmbeddedKafkaBroker.start(dir, config.brokerPort(), security);
            // The app runs as a user of its own with only the ACLs it needs, as in production.
            final String password = security.password(APP_USER);
            security.grant(broker.bootstrapServers(), APP_USER, password, AppAcls.of("User:" + APP_USER,
                    config.streamsProperties().getProperty(StreamsConfig.APPLICATION_ID_CONFIG), true));
            final Map<String, String> credentials = new HashMap<>();
            security.clientConfig(APP_USER, password).forEach((key, value) -> credentials.put(key, value.toString()));
            config = config.withBootstrapServers(broker.bootstrapServers()).withKafkaSettings(credentials);
        } else if (config.embeddedBroker()) {
            broker = EmbeddedKafkaBroker.start(config.brokerDir(), config.brokerPort());
            config = config.withBootstrapServers(broker.bootstrapServers());
        }
        try {
            final Properties props = config.streamsProperties();
            // Static membership: a restarted instance rejoins as itself, at once (InstanceId). Kafka
            // Streams' own rebalance protocol has none yet (docs/operations.md).
            final String protocol = props.getProperty(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic").strip();
            if (!"streams".equalsIgnoreCase(protocol)) {
                props.computeIfAbsent(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, key -> InstanceId.of(
                        Path.of(props.getProperty(StreamsConfig.STATE_DIR_CONFIG))));
            }
            final Map<String, Object> adminConfig = config.adminConfig();
            ClusterContact.await(adminConfig, config.startupWait());
            steps.done("cluster contact");
            final Replication replication = TopicSetup.ensureTopics(adminConfig, config.partitions(),
                    config.replication());
            steps.done("topics");
            // The internal topics (changelogs, repartitioning) replicated as the app's own.
            props.putIfAbsent(StreamsConfig.REPLICATION_FACTOR_CONFIG, Short.toString(replication.factor()));
            props.putIfAbsent(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG),
                    Integer.toString(replication.minInSync()));

            final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            new JvmMemoryMetrics().bindTo(registry);
            final JvmGcMetrics gcMetrics = new JvmGcMetrics();
            gcMetrics.bindTo(registry);
            final String applicationId = props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
            follower = new ModelFollower(config.consumerConfig(), config.producerConfig(),
                    Path.of(System.getProperty("java.io.tmpdir"), "digit-stream-releases"),
                    applicationId + "@" + hostName(), registry);
            steps.done("releases read");
            if (local != null && !follower.hasRelease(local.modelVersion())) {
                // A model new to the topic, such as one just trained, goes live: the way to deploy by
                // restarting. One published before is served only if the control record says so.
                publishLocal(config, replication, requested.model(), applicationId + "@" + hostName());
                follower.catchUp();
            }
            final DigitClassifier classifier = follower.initialModel(local).orElse(null);
            steps.done("model chosen");
            if (classifier == null) {
                throw new ModelArtifactException("no model artifact at " + requested.model() + " and no live release"
                        + " on " + Topics.MODELS + "; train one with ./run train, or publish one with"
                        + " ./run stream-app model publish");
            }
            final StreamMetrics metrics = new StreamMetrics(registry);
            metrics.modelVersion(classifier.modelVersion());
            props.putAll(DigitStreamTopology.errorHandling(metrics::deadLetter));
            final ClassifierPool classifiers = new ClassifierPool(classifier);
            final RecentImages recentImages = new RecentImages();
            final Topology topology = DigitStreamTopology.buildTopology(new StreamsBuilder(), config.topology(),
                    classifiers, metrics, recentImages);
            log.debug("Topology:\n{}", topology.describe());
            final KafkaStreams streams = new KafkaStreams(topology, props);
            new KafkaStreamsMetrics(streams).bindTo(registry);
            final AtomicInteger replacements = new AtomicInteger();
            final CompletableFuture<String> fatal = new CompletableFuture<>();
            streams.setUncaughtExceptionHandler(exception -> {
                final Optional<String> refused = KafkaRefusal.describe(exception);
                if (refused.isPresent()) {
                    // Another thread would be refused alike: stop, and say why.
                    log.error("{}; stopping", refused.get());
                    fatal.complete(refused.get());
                    return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
                }
                if (replacements.incrementAndGet() <= MAX_THREAD_REPLACEMENTS) {
                    log.error("Stream thread failed; replacing it ({} of {})", replacements.get(),
                            MAX_THREAD_REPLACEMENTS, exception);
                    return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
                }
                log.error("Stream thread failed again; shutting down", exception);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            final ModelFollower releases = follower;
            final DashboardFeed feed = new DashboardFeed(config.consumerConfig(), metrics, recentImages,
                    () -> new DashboardFeed.Models(classifiers.modelVersion(), classifiers.shadowVersion(),
                            releases.control().orElse(null)));
            final ModelGovernor governor = new ModelGovernor(config.modelPolicy(), follower,
                    new Releases(clientConfig(config), replication, applicationId + "@" + hostName()));
            feed.onAccuracy(governor::onAccuracy);
            final KafkaProducer<String, DigitImage> canvas = canvasProducer(config);
            final ProgressWatch progress = new ProgressWatch(Admin.create(adminConfig),
                    props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG), () -> ownedInputs(streams),
                    config.http().stuckAfter());
            final MultiGauge lag = MultiGauge.builder("digits.partition.lag")
                    .description("Records of an input partition this instance owns not yet committed by the group")
                    .register(registry);
            progress.onCheck(partitions -> lag.register(partitions.stream().map(partition -> MultiGauge.Row.of(
                    Tags.of("partition", partition.partition()), partition.lag())).toList(), true));
            final String instanceId = props.getProperty(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
            final HttpEndpoints http = HttpEndpoints.start(config.http(), registry, streams::state, progress::stuck,
                    progress::backlog,
                    classifiers::modelVersion, feed, () -> new HttpEndpoints.Instance(instanceId, applicationId,
                            progress.partitions()), png -> {
                        final String id = "canvas-" + java.util.UUID.randomUUID();
                        canvas.send(new ProducerRecord<>(Topics.IMAGES, id,
                                DigitImage.ofPng(id, png, null, System.currentTimeMillis(), "canvas")));
                        return id;
                    });
            steps.done("clients and HTTP");
            streams.start();
            follower.follow(classifiers, metrics);
            steps.done("streams started");
            log.info("Classifying {} with model {} on {}; dashboard on http://localhost:{}/ (also /metrics, /health);"
                    + " {}", Topics.IMAGES, classifier.modelVersion(), config.bootstrapServers(), http.port(), steps);
            return new StreamService(broker, streams, classifiers, http, config.bootstrapServers(), gcMetrics, metrics,
                    feed, canvas, progress, follower, governor, fatal, security);
        } catch (final RuntimeException e) {
            if (follower != null) {
                follower.close();
            }
            if (broker != null) {
                broker.close();
            }
            throw e;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The secured embedded broker's TLS material and users, when the app started one. */
    public Optional<SecureKafka> embeddedSecurity() {
        return Optional.ofNullable(security);
    }

    public int httpPort() {
        return http.port();
    }

    /** Records sent to the dead-letter topic since start. */
    public double deadLetters() {
        return metrics.deadLettersByReason().values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * Completes with the reason when the app cannot go on and has stopped processing: Kafka refused
     * its credentials or an operation ({@link KafkaRefusal}). The CLI exits with it.
     */
    public CompletableFuture<String> fatal() {
        return fatal;
    }

    /** The partitions of the input topics this instance's stream threads process now. */
    public Set<TopicPartition> ownedInputs() {
        return ownedInputs(streams);
    }

    /** The model version serving now. */
    public String modelVersion() {
        return classifiers.modelVersion();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Waits until the stream threads have their partitions and run, at most {@code timeout}. */
    public void awaitRunning(final Duration timeout) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("stream app not RUNNING after " + timeout.toSeconds() + " s: "
                        + streams.state());
            }
            Thread.sleep(50);
        }
    }

    /** The app's own metrics, as /metrics shows them: for an application that embeds the app, and the benchmark. */
    public StreamMetrics metrics() {
        return metrics;
    }

    /** Kafka Streams' own metrics, as /metrics shows them, by their Kafka names. */
    public Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> streamsMetrics() {
        return streams.metrics();
    }

    @Override
    public void close() {
        log.info("Shutting down");
        // Leave the group at once, so a restarted instance gets the partitions without waiting out
        // the session timeout (Streams stays in the group on close by default).
        http.close();
        progress.close();
        canvas.close(CANVAS_SEND_TIMEOUT);
        streams.close(CloseOptions.timeout(CLOSE_TIMEOUT)
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        governor.close();
        follower.close();
        classifiers.close();
        feed.close();
        gcMetrics.close();
        if (broker != null) {
            broker.close();
        }
    }
}
