package io.digitstream.stream;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;

/** Plain Kafka clients on the test broker, as a user's own producers and readers would be. */
public final class TestClients {

    private TestClients() {
    }

    /** A producer of strings, with {@code settings} over its defaults (compression, say). */
    public static KafkaProducer<String, String> producer(final Map<String, String> settings) {
        final Properties props = new Properties();
        props.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        props.putAll(settings);
        if (!settings.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaClusterExtension.bootstrapServers());
        }
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    public static KafkaProducer<String, String> producer() {
        return producer(Map.of());
    }

    /** A committed-only reader of {@code topic} from its beginning, in a group of its own. */
    public static KafkaConsumer<String, String> consumer(final String topic) {
        final KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(), new StringDeserializer(),
                new StringDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /** A reader of {@code topic} from its end as it is now, without a group. */
    public static KafkaConsumer<String, String> consumerAtEnd(final String topic) {
        return consumerAtEnd(KafkaClusterExtension.bootstrapServers(), topic);
    }

    /** A reader of {@code topic} on the cluster at {@code bootstrapServers}, from its end as it is now. */
    public static KafkaConsumer<String, String> consumerAtEnd(final String bootstrapServers, final String topic) {
        return consumerAtEnd(bootstrapServers, topic, Map.of());
    }

    /** As {@link #consumerAtEnd(String, String)}, with client settings such as security. */
    public static KafkaConsumer<String, String> consumerAtEnd(final String bootstrapServers, final String topic,
            final Map<String, Object> settings) {
        final Properties props = consumerProps(bootstrapServers);
        props.putAll(settings);
        final KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer());
        final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // the end now, not when the first poll looks it up
        return consumer;
    }

    public static KafkaConsumer<byte[], byte[]> byteConsumer(final String topic) {
        final KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /**
     * Waits a moment for predictions, then reads what has been fetched until none is left, so a
     * count keeps up with the app (one poll returns at most 500 records). Predictions of the ids
     * {@code ours} takes go into {@code seen}, a second one of an id into {@code duplicates}; other
     * tests' predictions on the shared broker are passed over.
     *
     * @return how many ids have a prediction
     */
    public static int drainPredictions(final KafkaConsumer<String, String> reader, final Predicate<String> ours,
            final Map<String, Prediction> seen, final List<String> duplicates) {
        ConsumerRecords<String, String> records = reader.poll(Duration.ofMillis(100));
        while (!records.isEmpty()) {
            for (final ConsumerRecord<String, String> record : records) {
                final Prediction p = JsonSerde.serdeFor(Prediction.class).deserialize(record.topic(),
                        record.value().getBytes(StandardCharsets.UTF_8));
                if (ours.test(p.id()) && seen.put(p.id(), p) != null) {
                    duplicates.add(p.id());
                }
            }
            records = reader.poll(Duration.ZERO);
        }
        return seen.size();
    }

    public static Properties consumerProps() {
        return consumerProps(KafkaClusterExtension.bootstrapServers());
    }

    /** A committed-only reader's settings on the cluster at {@code bootstrapServers}, in a group of its own. */
    public static Properties consumerProps(final String bootstrapServers) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return props;
    }
}
