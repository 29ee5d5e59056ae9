package io.digitstream.stream.service;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

import io.digitstream.releases.Replication;
import io.digitstream.stream.topology.TopologySettings;

/**
 * The stream app's configuration, from a properties file, environment variables and command-line
 * flags: a flag overrides the environment, which overrides the file, which overrides the defaults.
 * Environment variables are the keys in capitals with {@code _} for {@code .} behind the prefix
 * {@value #ENV_PREFIX} ({@code DIGITS_INFERENCE_BATCH_SIZE} is {@code inference.batch.size}).
 * Every key that is not one of the app's own ({@link #APP_KEYS}) goes to Kafka Streams and its
 * clients unchanged, security settings included.
 *
 * @param bootstrapServers the Kafka cluster, or empty to start the embedded broker
 * @param brokerDir        data directory of the embedded broker
 * @param brokerPort       client port of the embedded broker (0: any free port)
 * @param model            model artifact, or a models directory holding LATEST
 * @param http             the metrics, health and dashboard endpoints
 * @param partitions       partitions of the topics the app creates when missing
 * @param replication      replication of those topics and of the internal ones, as asked for
 * @param topology         the topology's settings
 * @param kafka            every other key, for Kafka Streams and its clients
 * @param modelPolicy      when models change by themselves
 * @param startupWait      how long to wait at start for a broker to answer, or null for as long as it takes
 * @param secureBroker     whether the embedded broker listens SASL_SSL with ACLs (docs/security.md)
 */
public record AppConfig(String bootstrapServers, Path brokerDir, int brokerPort, Path model, HttpSettings http, int partitions,
        Replication replication, TopologySettings topology, Map<String, String> kafka, ModelPolicy modelPolicy,
        Duration startupWait, boolean secureBroker) {

    public static final String ENV_PREFIX = "DIGITS_";
    /** The Kafka Streams consumers' socket receive buffer when none is set: a few fetch answers. */
    static final int CONSUMER_SOCKET_BUFFER = 4 * 1024 * 1024;
    /** Kafka Streams' commit interval under exactly-once when none is set. */
    private static final long EXACTLY_ONCE_COMMIT_MS = 100;
    private static final String COMMIT_INTERVAL_MS = StreamsConfig.COMMIT_INTERVAL_MS_CONFIG;

    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String BROKER_DIR = "embedded.broker.dir";
    public static final String BROKER_PORT = "embedded.broker.port";
    public static final String BROKER_SECURE = "embedded.broker.secure";
    public static final String MODEL = "model.path";
    public static final String HTTP_PORT = "http.port";
    public static final String HTTP_HOST = "http.host";
    public static final String HTTP_CLASSIFY_ENABLED = "http.classify.enabled";
    public static final String HTTP_CLASSIFY_RATE = "http.classify.rate";
    public static final String HEALTH_STUCK_AFTER_MS = "health.stuck.after.ms";
    public static final String HEALTH_READY_MAX_BEHIND_MS = "health.ready.max.behind.ms";
    public static final String PARTITIONS = "topic.partitions";
    public static final String REPLICATION_FACTOR = "topic.replication.factor";
    public static final String MIN_INSYNC_REPLICAS = "topic.min.insync.replicas";
    public static final String STARTUP_WAIT_MS = "startup.wait.ms";
    /** The value of {@value #STARTUP_WAIT_MS} that waits for the cluster as long as it takes. */
    public static final String FOREVER = "forever";
    /** The value of a replication setting that lets the cluster's size decide. */
    public static final String FOLLOW_CLUSTER = "auto";
    public static final String BATCH_SIZE = "inference.batch.size";
    public static final String BATCH_WAIT_MS = "inference.batch.wait.ms";
    public static final String OVERLAP_INFERENCE = "inference.overlap";
    public static final String LABEL_JOIN_WINDOW_MS = "label.join.window.ms";
    public static final String ACCURACY_WINDOW_MS = "accuracy.window.ms";
    public static final String ACCURACY_ADVANCE_MS = "accuracy.advance.ms";
    public static final String ACCURACY_GRACE_MS = "accuracy.grace.ms";
    public static final String ACCURACY_FLUSH_MS = "accuracy.flush.ms";
    public static final String IMAGE_MAX_BYTES = "image.max.bytes";
    public static final String BACKLOG_COMMIT_MS = "commit.interval.backlog.ms";
    public static final String MAX_CLOCK_SKEW_MS = "image.max.clock.skew.ms";
    public static final String MAX_PENDING_JOINS = "label.join.max.pending";
    public static final String PROMOTE_AUTO = "model.promote.auto";
    public static final String PROMOTE_MIN_IMAGES = "model.promote.min.images";
    public static final String PROMOTE_MAX_DROP = "model.promote.max.drop";
    public static final String ROLLBACK_AUTO = "model.rollback.auto";
    public static final String ROLLBACK_MIN_IMAGES = "model.rollback.min.images";
    public static final String ROLLBACK_MIN_ACCURACY = "model.rollback.min.accuracy";
    public static final String ROLLBACK_MAX_DROP = "model.rollback.max.drop";

    /** The defaults: measured where it matters (see docs/benchmarks.md). */
    public static final Map<String, String> DEFAULTS = Map.ofEntries(
            Map.entry(BOOTSTRAP_SERVERS, ""),
            Map.entry(BROKER_DIR, "data/kafka"),
            Map.entry(BROKER_PORT, "9092"),
            Map.entry(BROKER_SECURE, "false"),
            Map.entry(MODEL, "models"),
            Map.entry(HTTP_PORT, "8080"),
            Map.entry(HTTP_HOST, "localhost"),
            Map.entry(HTTP_CLASSIFY_ENABLED, "true"),
            Map.entry(HTTP_CLASSIFY_RATE, "20"),
            Map.entry(HEALTH_STUCK_AFTER_MS, "60000"),
            Map.entry(HEALTH_READY_MAX_BEHIND_MS, "10000"),
            Map.entry(PARTITIONS, "2"),
            Map.entry(REPLICATION_FACTOR, FOLLOW_CLUSTER),
            Map.entry(MIN_INSYNC_REPLICAS, FOLLOW_CLUSTER),
            Map.entry(STARTUP_WAIT_MS, FOREVER),
            Map.entry(BATCH_SIZE, "128"),
            Map.entry(BATCH_WAIT_MS, "20"),
            Map.entry(OVERLAP_INFERENCE, "true"),
            Map.entry(LABEL_JOIN_WINDOW_MS, "300000"),
            Map.entry(ACCURACY_WINDOW_MS, "300000"),
            Map.entry(ACCURACY_ADVANCE_MS, "60000"),
            Map.entry(ACCURACY_FLUSH_MS, "500"),
            Map.entry(IMAGE_MAX_BYTES, "1048576"),
            Map.entry(BACKLOG_COMMIT_MS, "300"),
            Map.entry(MAX_CLOCK_SKEW_MS, Long.toString(TopologySettings.DEFAULT_MAX_CLOCK_SKEW.toMillis())),
            Map.entry(MAX_PENDING_JOINS, Integer.toString(TopologySettings.DEFAULT_MAX_PENDING_JOINS)),
            Map.entry(PROMOTE_AUTO, "false"),
            Map.entry(PROMOTE_MIN_IMAGES, "1000"),
            Map.entry(PROMOTE_MAX_DROP, "0.002"),
            Map.entry(ROLLBACK_AUTO, "false"),
            Map.entry(ROLLBACK_MIN_IMAGES, "500"),
            Map.entry(ROLLBACK_MIN_ACCURACY, "0"),
            Map.entry(ROLLBACK_MAX_DROP, "0.02"));

    public static final Set<String> APP_KEYS = Set.of(BROKER_DIR, BROKER_PORT, BROKER_SECURE, MODEL, HTTP_PORT,
            HTTP_HOST, HTTP_CLASSIFY_ENABLED, HTTP_CLASSIFY_RATE, HEALTH_STUCK_AFTER_MS, HEALTH_READY_MAX_BEHIND_MS,
            PARTITIONS, REPLICATION_FACTOR, MIN_INSYNC_REPLICAS, STARTUP_WAIT_MS, BATCH_SIZE, BATCH_WAIT_MS,
            OVERLAP_INFERENCE, LABEL_JOIN_WINDOW_MS, ACCURACY_WINDOW_MS, ACCURACY_ADVANCE_MS, ACCURACY_GRACE_MS,
            ACCURACY_FLUSH_MS, IMAGE_MAX_BYTES, BACKLOG_COMMIT_MS, MAX_CLOCK_SKEW_MS, MAX_PENDING_JOINS, PROMOTE_AUTO,
            PROMOTE_MIN_IMAGES, PROMOTE_MAX_DROP, ROLLBACK_AUTO, ROLLBACK_MIN_IMAGES, ROLLBACK_MIN_ACCURACY,
            ROLLBACK_MAX_DROP);

    /**
     * @param file  a properties file, or null
     * @param env   the environment (System.getenv())
     * @param flags settings from the command line
     */
    public static AppConfig load(final Path file, final Map<String, String> env, final Map<String, String> flags) {
        final Map<String, String> merged = new LinkedHashMap<>(DEFAULTS);
        if (file != null) {
            merged.putAll(readFile(file));
        }
        env.forEach((name, value) -> {
            if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
                merged.put(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        merged.putAll(flags);
        return from(merged);
    }

    static AppConfig from(final Map<String, String> settings) {
        final long joinWindow = positiveLong(settings, LABEL_JOIN_WINDOW_MS);
        final Map<String, String> kafka = new LinkedHashMap<>();
        settings.forEach((key, value) -> {
            if (!APP_KEYS.contains(key) && !key.equals(BOOTSTRAP_SERVERS)) {
                kafka.put(key, value);
            }
        });
        // Under exactly-once the commit interval, which bounds latency, applies while the inference
        // workers keep up; Kafka Streams gets the longer one for a backlog (see BatchingClassifier).
        final boolean exactlyOnce = exactlyOnce(settings);
        final long commitMs = settings.containsKey(COMMIT_INTERVAL_MS)
                ? nonNegativeLong(settings, COMMIT_INTERVAL_MS) : EXACTLY_ONCE_COMMIT_MS;
        final long backlogCommitMs = positiveLong(settings, BACKLOG_COMMIT_MS);
        final boolean askForCommits = exactlyOnce && backlogCommitMs > commitMs;
        if (askForCommits) {
            kafka.put(COMMIT_INTERVAL_MS, Long.toString(backlogCommitMs));
        }
        final TopologySettings topology = new TopologySettings(
                (int) positiveLong(settings, BATCH_SIZE),
                Duration.ofMillis(positiveLong(settings, BATCH_WAIT_MS)),
                Duration.ofMillis(joinWindow),
                Duration.ofMillis(positiveLong(settings, ACCURACY_WINDOW_MS)),
                Duration.ofMillis(positiveLong(settings, ACCURACY_ADVANCE_MS)),
                // Late labels keep their image's event time: the windows must wait as long as the join.
                Duration.ofMillis(settings.containsKey(ACCURACY_GRACE_MS)
                        ? nonNegativeLong(settings, ACCURACY_GRACE_MS) : joinWindow),
                Duration.ofMillis(positiveLong(settings, ACCURACY_FLUSH_MS)),
                (int) positiveLong(settings, IMAGE_MAX_BYTES),
                bool(settings, OVERLAP_INFERENCE),
                askForCommits ? Duration.ofMillis(commitMs) : null,
                Duration.ofMillis(nonNegativeLong(settings, MAX_CLOCK_SKEW_MS)),
                (int) Math.min(Integer.MAX_VALUE, positiveLong(settings, MAX_PENDING_JOINS)));
        final Replication replication = new Replication((short) Math.min(Short.MAX_VALUE,
                positiveOrFollow(settings, REPLICATION_FACTOR)), (int) Math.min(Integer.MAX_VALUE,
                        positiveOrFollow(settings, MIN_INSYNC_REPLICAS)));
        return new AppConfig(settings.get(BOOTSTRAP_SERVERS).strip(), Path.of(settings.get(BROKER_DIR)),
                (int) nonNegativeLong(settings, BROKER_PORT), Path.of(settings.get(MODEL)),
                new HttpSettings(settings.get(HTTP_HOST).strip(), (int) nonNegativeLong(settings, HTTP_PORT),
                        bool(settings, HTTP_CLASSIFY_ENABLED), (int) Math.min(Integer.MAX_VALUE,
                                positiveLong(settings, HTTP_CLASSIFY_RATE)),
                        Duration.ofMillis(positiveLong(settings, HEALTH_STUCK_AFTER_MS)),
                        Duration.ofMillis(positiveLong(settings, HEALTH_READY_MAX_BEHIND_MS))),
                (int) positiveLong(settings, PARTITIONS), replication, topology, Map.copyOf(kafka),
                new ModelPolicy(bool(settings, PROMOTE_AUTO), positiveLong(settings, PROMOTE_MIN_IMAGES),
                        fraction(settings, PROMOTE_MAX_DROP), bool(settings, ROLLBACK_AUTO),
                        positiveLong(settings, ROLLBACK_MIN_IMAGES), fraction(settings, ROLLBACK_MIN_ACCURACY),
                        fraction(settings, ROLLBACK_MAX_DROP)),
                FOREVER.equalsIgnoreCase(settings.get(STARTUP_WAIT_MS).strip()) ? null
                        : Duration.ofMillis(positiveLong(settings, STARTUP_WAIT_MS)),
                bool(settings, BROKER_SECURE));
    }

    public boolean embeddedBroker() {
        return bootstrapServers.isEmpty();
    }

    public AppConfig withBootstrapServers(final String servers) {
        return new AppConfig(servers, brokerDir, brokerPort, model, http, partitions, replication, topology, kafka,
                modelPolicy, startupWait, secureBroker);
    }

    /** This config with {@code settings} over its Kafka settings: the secured embedded broker's credentials. */
    public AppConfig withKafkaSettings(final Map<String, String> settings) {
        final Map<String, String> merged = new HashMap<>(kafka);
        merged.putAll(settings);
        return new AppConfig(bootstrapServers, brokerDir, brokerPort, model, http, partitions, replication, topology,
                Map.copyOf(merged), modelPolicy, startupWait, secureBroker);
    }

    public int httpPort() {
        return http.port();
    }

    /** Kafka Streams properties: this app's defaults under everything the user set. */
    public Properties streamsProperties() {
        final Properties props = new Properties();
        props.putAll(kafka);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, "digit-stream");
        props.putIfAbsent(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.putIfAbsent(StreamsConfig.STATE_DIR_CONFIG, "data/kafka-streams");
        // With several instances, each task's state is kept warm on a second one, which takes the task
        // over without restoring it when the first is gone for good (docs/operations.md).
        props.putIfAbsent(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "1");
        // A new instance warms its tasks' state up first; it is given them at the next probing
        // rebalance, here a minute rather than ten.
        props.putIfAbsent(StreamsConfig.PROBING_REBALANCE_INTERVAL_MS_CONFIG, "60000");
        // A stream thread per core, each with its own copy of the network, up to one per partition:
        // measured faster here than one thread whose forward pass spreads over the cores through
        // OpenMP (./run sets OMP_NUM_THREADS=1 for the stream app; see docs/benchmarks.md).
        props.putIfAbsent(StreamsConfig.NUM_STREAM_THREADS_CONFIG,
                Integer.toString(Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), partitions))));
        // The default 16 KB producer batch holds about five images.
        props.putIfAbsent(StreamsConfig.producerPrefix("batch.size"), "262144");
        // A fetch answers with up to 1 MB of images per partition; through the default 64 KB socket
        // buffer most of it moves only while the stream thread sits in poll(), as the consumer reads
        // its socket nowhere else. With room for the whole answer, the fetch sent off at the end of
        // one poll arrives while the thread works (the kernel caps this at net.core.rmem_max).
        props.putIfAbsent(StreamsConfig.consumerPrefix("receive.buffer.bytes"), Integer.toString(CONSUMER_SOCKET_BUFFER));
        // A task reads a partition of digits.images and one of digits.labels. Under Kafka Streams'
        // default (0), each record processed while one of them has nothing buffered formats a few
        // log messages about it that are logged only if the task idles for minutes (docs/benchmarks.md).
        // The label join pairs an image and its label in either
        // order and expires them by wall-clock time, so the app need not wait for an empty input.
        props.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, Long.toString(StreamsConfig.MAX_TASK_IDLE_MS_DISABLED));
        // Under exactly-once nothing the app writes is visible before its transaction commits, and
        // the commit flushes the producer: lingering up to Kafka Streams' commit interval costs
        // readers nothing and sends a batch per partition per commit instead of one every few
        // milliseconds, less work for the broker and the producers (docs/benchmarks.md).
        // A transaction's first write to a partition is refused (CONCURRENT_TRANSACTIONS) while the
        // markers of the one before are still being written, which on a replicated cluster takes a
        // few hundred milliseconds; the producer's default backoff, growing to a second, made each
        // commit cycle take seconds there (docs/benchmarks.md).
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), "20");
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG), "100");
        props.putIfAbsent(StreamsConfig.producerPrefix("linger.ms"), exactlyOnce()
                ? props.getProperty(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(EXACTLY_ONCE_COMMIT_MS))
                : "5");
        return props;
    }

    /** Whether Kafka Streams runs exactly-once ({@code exactly_once_v2}, the default). */
    public boolean exactlyOnce() {
        return exactlyOnce(kafka);
    }

    private static boolean exactlyOnce(final Map<String, String> settings) {
        return StreamsConfig.EXACTLY_ONCE_V2.equals(
                settings.getOrDefault(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2).strip());
    }

    /** The user's settings that a producer takes (security and the like), on this app's cluster. */
    public Map<String, Object> producerConfig() {
        return clientConfig(ProducerConfig.configNames());
    }

    /**
     * The user's settings that a consumer takes, on this app's cluster, for the app's own consumers
     * beside Kafka Streams': without {@code group.instance.id} and {@code group.protocol}, which are
     * the stream threads' (static membership, the rebalance protocol; docs/operations.md), not theirs.
     */
    public Map<String, Object> consumerConfig() {
        final Map<String, Object> config = clientConfig(ConsumerConfig.configNames());
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        return config;
    }

    /** The user's settings that an admin client takes, on this app's cluster. */
    public Map<String, Object> adminConfig() {
        return clientConfig(AdminClientConfig.configNames());
    }

    private Map<String, Object> clientConfig(final Set<String> names) {
        final Map<String, Object> config = new HashMap<>();
        kafka.forEach((key, value) -> {
            if (names.contains(key)) {
                config.put(key, value);
            }
        });
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return config;
    }

    private static Map<String, String> readFile(final Path file) {
        final Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (final IOException e) {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        final Map<String, String> values = new LinkedHashMap<>();
        props.stringPropertyNames().forEach(name -> values.put(name, props.getProperty(name).strip()));
        return values;
    }

    private static boolean bool(final Map<String, String> settings, final String key) {
        final String text = settings.get(key).strip().toLowerCase(Locale.ROOT);
        if (!text.equals("true") && !text.equals("false")) {
            throw new IllegalArgumentException(key + " must be true or false, got '" + settings.get(key) + "'");
        }
        return Boolean.parseBoolean(text);
    }

    private static double fraction(final Map<String, String> settings, final String key) {
        final String text = settings.get(key);
        try {
            final double value = Double.parseDouble(text.strip());
            if (!(value >= 0 && value <= 1)) {
                throw new IllegalArgumentException(key + " must be between 0 and 1 (a fraction, 0.02 = 2 points),"
                        + " got " + text);
            }
            return value;
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number between 0 and 1, got '" + text + "'", e);
        }
    }

    /** A positive number, or {@link Replication#FOLLOW} for {@value #FOLLOW_CLUSTER}. */
    private static long positiveOrFollow(final Map<String, String> settings, final String key) {
        return FOLLOW_CLUSTER.equalsIgnoreCase(settings.get(key).strip()) ? Replication.FOLLOW
                : positiveLong(settings, key);
    }

    private static long positiveLong(final Map<String, String> settings, final String key) {
        final long value = nonNegativeLong(settings, key);
        if (value == 0) {
            throw new IllegalArgumentException(key + " must be positive, got 0");
        }
        return value;
    }

    private static long nonNegativeLong(final Map<String, String> settings, final String key) {
        final String text = settings.get(key);
        try {
            final long value = Long.parseLong(text.strip());
            if (value < 0) {
                throw new IllegalArgumentException(key + " must not be negative, got " + value);
            }
            return value;
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, got '" + text + "'", e);
        }
    }
}
