package io.digitstream.stream.cli;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;

/**
 * Each model version's accuracy on every labeled image so far, from digits.accuracy: the newest
 * row of each all-classes window, summed over the windows that tile time (those starting at a
 * multiple of their size), so hopping windows count each image once.
 */
final class LiveAccuracy {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Labeled images and correct ones. */
    record Tally(long total, long correct) {

        double accuracy() {
            return total == 0 ? Double.NaN : (double) correct / total;
        }
    }

    private LiveAccuracy() {
    }

    static Map<String, Tally> read(final Map<String, Object> clientConfig) {
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        final Map<String, Map<Long, ClassAccuracy>> newest = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            final var infos = consumer.partitionsFor(Topics.ACCURACY, TIMEOUT);
            if (infos == null || infos.isEmpty()) {
                return Map.of();
            }
            final List<TopicPartition> partitions = infos.stream()
                    .map(info -> new TopicPartition(Topics.ACCURACY, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            final long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))
                    && System.nanoTime() < deadline) {
                for (final ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    final ClassAccuracy row = parse(record.value());
                    if (row != null && ClassAccuracy.ALL_CLASSES.equals(row.trueClass()) && row.modelVersion() != null
                            && row.windowEnd() > row.windowStart()
                            && row.windowStart() % (row.windowEnd() - row.windowStart()) == 0) {
                        newest.computeIfAbsent(row.modelVersion(), v -> new HashMap<>())
                                .merge(row.windowStart(), row, (a, b) -> b.total() >= a.total() ? b : a);
                    }
                }
            }
        }
        final Map<String, Tally> tallies = new HashMap<>();
        newest.forEach((version, windows) -> tallies.put(version, new Tally(
                windows.values().stream().mapToLong(ClassAccuracy::total).sum(),
                windows.values().stream().mapToLong(ClassAccuracy::correct).sum())));
        return tallies;
    }

    private static ClassAccuracy parse(final byte[] value) {
        try {
            return JsonSerde.serdeFor(ClassAccuracy.class).deserialize(Topics.ACCURACY, value);
        } catch (final RuntimeException e) {
            return null;
        }
    }
}
