package io.digitstream.releases;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.model.Json;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelMetadata;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.ModelControl;
import io.digitstream.schemas.ModelStatus;
import io.digitstream.schemas.Topics;

/**
 * The {@value Topics#MODELS} topic: one compacted partition holding each release under its version,
 * the {@link ModelControl} under {@value Topics#MODEL_CONTROL_KEY} and a {@link ModelStatus} per
 * version. One partition keeps them in order, so a control record naming a release always comes
 * after the release.
 */
public final class ReleaseLog {

    public static final TopicPartition PARTITION = new TopicPartition(Topics.MODELS, 0);
    /** Room for a release and its record's framing in the topic's and the clients' size limits. */
    static final int MAX_RECORD_BYTES = ModelRelease.MAX_BYTES + 64 * 1024;
    /** Largest control or status record read; anything larger is not ours. */
    private static final int MAX_JSON_BYTES = 256 * 1024;
    private static final long TIMEOUT_SECONDS = 60;
    private static final Logger log = LoggerFactory.getLogger(ReleaseLog.class);
    private static final JsonSerde<ModelControl> CONTROL = JsonSerde.serdeFor(ModelControl.class)
            .withMaxBytes(MAX_JSON_BYTES);
    private static final JsonSerde<ModelStatus> STATUS = JsonSerde.serdeFor(ModelStatus.class)
            .withMaxBytes(MAX_JSON_BYTES);

    private ReleaseLog() {
    }

    /**
     * Creates the topic when it is missing: compacted, one partition, records large enough for a
     * release, replicated as {@code replication} says on this cluster.
     */
    public static void ensureTopic(final Map<String, Object> adminConfig, final Replication replication) {
        try (Admin admin = Admin.create(adminConfig)) {
            if (admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).contains(Topics.MODELS)) {
                return;
            }
            final Replication replicas = replication.on(admin);
            final Map<String, String> configs = new HashMap<>(replicas.topicConfigs());
            configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
            configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
            final NewTopic topic = new NewTopic(Topics.MODELS, 1, replicas.factor()).configs(configs);
            try {
                admin.createTopics(List.of(topic)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                log.info("Created topic {} (compacted, 1 partition, records up to {} bytes)", Topics.MODELS,
                        MAX_RECORD_BYTES);
            } catch (final ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating " + Topics.MODELS, e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create " + Topics.MODELS + " on "
                    + adminConfig.get("bootstrap.servers") + ": "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
    }

    /** A release on the log: where it is, and its metadata when it could be read. */
    public record Release(String version, long offset, long publishedAt, int bytes, ModelMetadata metadata) {
    }

    /** What the log holds so far, folded from its records in order. */
    public static final class State {

        private final Map<String, Release> releases = new LinkedHashMap<>();
        private final Map<String, ModelStatus> statuses = new LinkedHashMap<>();
        private volatile ModelControl control;
        private volatile long controlAt;
        private long nextOffset;

        /** Applies one record; returns whether the control record changed. */
        boolean apply(final ConsumerRecord<String, byte[]> record) {
            nextOffset = record.offset() + 1;
            final String key = record.key();
            if (key == null) {
                return false;
            }
            if (key.equals(Topics.MODEL_CONTROL_KEY)) {
                if (record.value() == null) {
                    return false;
                }
                try {
                    control = CONTROL.deserialize(Topics.MODELS, record.value());
                    controlAt = record.timestamp();
                    return true;
                } catch (final RuntimeException e) {
                    log.warn("Ignoring control record at {}@{}: {}", Topics.MODELS, record.offset(), e.getMessage());
                    return false;
                }
            }
            if (key.startsWith(Topics.MODEL_STATUS_PREFIX)) {
                final String version = key.substring(Topics.MODEL_STATUS_PREFIX.length());
                if (record.value() == null) {
                    statuses.remove(version);
                    return false;
                }
                try {
                    statuses.put(version, STATUS.deserialize(Topics.MODELS, record.value()));
                } catch (final RuntimeException e) {
                    log.warn("Ignoring status record at {}@{}: {}", Topics.MODELS, record.offset(), e.getMessage());
                }
                return false;
            }
            if (record.value() == null) {
                releases.remove(key);
            } else {
                releases.remove(key);
                releases.put(key, new Release(key, record.offset(), record.timestamp(), record.value().length,
                        metadataOf(record.value()).orElse(null)));
            }
            return false;
        }

        public Optional<ModelControl> control() {
            return Optional.ofNullable(control);
        }

        /** When the newest control record was written (its timestamp), epoch milliseconds. */
        public long controlAt() {
            return controlAt;
        }

        /** Every release, in the order published. */
        public List<Release> releases() {
            return new ArrayList<>(releases.values());
        }

        public Optional<Release> release(final String version) {
            return Optional.ofNullable(releases.get(version));
        }

        public Optional<ModelStatus> status(final String version) {
            return Optional.ofNullable(statuses.get(version));
        }

        public long nextOffset() {
            return nextOffset;
        }
    }

    /** The metadata entry of a release, read without unpacking the rest; empty when it is not one. */
    static Optional<ModelMetadata> metadataOf(final byte[] release) {
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(release))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                if (entry.getName().equals(ModelArtifact.METADATA_FILE)) {
                    return Optional.of(Json.MAPPER.readValue(zip.readNBytes(MAX_JSON_BYTES), ModelMetadata.class));
                }
            }
        } catch (final IOException | RuntimeException e) {
            log.debug("Release metadata unreadable: {}", e.getMessage());
        }
        return Optional.empty();
    }

    /** Follows the log from its start: {@link #readToEnd} for what is there, {@link #poll} for what comes. */
    public static final class Reader implements AutoCloseable {

        private final KafkaConsumer<String, byte[]> consumer;
        private final Map<String, Object> consumerConfig;
        private final State state = new State();

        public Reader(final Map<String, Object> consumerConfig) {
            this.consumerConfig = consumerConfig;
            this.consumer = consumer(consumerConfig);
            consumer.assign(List.of(PARTITION));
            consumer.seekToBeginning(List.of(PARTITION));
        }

        public State state() {
            return state;
        }

        /** Reads everything committed up to the end the log has now. */
        public State readToEnd(final Duration timeout) {
            final long deadline = System.nanoTime() + timeout.toNanos();
            final long end = consumer.endOffsets(List.of(PARTITION), timeout).get(PARTITION);
            while (consumer.position(PARTITION, timeout) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + Topics.MODELS + " to its end (offset " + end
                            + ") within " + timeout.toSeconds() + " s");
                }
                poll(Duration.ofMillis(200));
            }
            return state;
        }

        /** Applies whatever arrives within {@code timeout}; returns whether the control record changed. */
        public boolean poll(final Duration timeout) {
            boolean controlChanged = false;
            for (final ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
                controlChanged |= state.apply(record);
            }
            return controlChanged;
        }

        /** Ends a {@link #poll} in progress, from another thread. */
        public void wakeup() {
            consumer.wakeup();
        }

        /** The bytes of a release on the log, read with a consumer of their own. */
        public byte[] fetch(final Release release, final Duration timeout) {
            try (KafkaConsumer<String, byte[]> fetcher = consumer(consumerConfig)) {
                fetcher.assign(List.of(PARTITION));
                fetcher.seek(PARTITION, release.offset());
                final long deadline = System.nanoTime() + timeout.toNanos();
                while (System.nanoTime() < deadline) {
                    for (final ConsumerRecord<String, byte[]> record : fetcher.poll(Duration.ofMillis(200))) {
                        if (record.offset() >= release.offset() && release.version().equals(record.key())) {
                            return record.value();
                        }
                        if (record.offset() > release.offset()) {
                            break;
                        }
                    }
                }
                throw new IllegalStateException("release " + release.version() + " at " + Topics.MODELS + "@"
                        + release.offset() + " could not be read within " + timeout.toSeconds() + " s");
            }
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }

        private static KafkaConsumer<String, byte[]> consumer(final Map<String, Object> consumerConfig) {
            final Properties props = new Properties();
            props.putAll(consumerConfig);
            props.remove(ConsumerConfig.GROUP_ID_CONFIG);
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_RECORD_BYTES);
            props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, MAX_RECORD_BYTES);
            return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        }
    }

    /** Writes releases, control and status records, each acknowledged by the cluster before it returns. */
    public static final class Writer implements AutoCloseable {

        private final KafkaProducer<String, byte[]> producer;

        public Writer(final Map<String, Object> producerConfig) {
            final Properties props = new Properties();
            props.putAll(producerConfig);
            props.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_RECORD_BYTES);
            props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(32L * 1024 * 1024, 2L * MAX_RECORD_BYTES));
            this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        }

        public void release(final String version, final byte[] bytes) {
            send(version, bytes);
        }

        public void control(final ModelControl control) {
            send(Topics.MODEL_CONTROL_KEY, CONTROL.serialize(Topics.MODELS, control));
        }

        public void status(final ModelStatus status) {
            send(Topics.MODEL_STATUS_PREFIX + status.version(), STATUS.serialize(Topics.MODELS, status));
        }

        private void send(final String key, final byte[] value) {
            try {
                producer.send(new ProducerRecord<>(Topics.MODELS, 0, key, value)).get(TIMEOUT_SECONDS,
                        TimeUnit.SECONDS);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while writing to " + Topics.MODELS, e);
            } catch (final ExecutionException | TimeoutException e) {
                throw new IllegalStateException("cannot write " + key + " to " + Topics.MODELS + ": "
                        + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
            }
        }

        @Override
        public void close() {
            producer.close(Duration.ofSeconds(5));
        }
    }
}
