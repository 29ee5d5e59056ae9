package io.digitstream.stream;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.core.ConditionTimeoutException;

import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;

/**
 * The committed predictions of one run (ids starting with its prefix) as a user's read_committed
 * reader sees them: one per id or a duplicate, on which partition and when each was made, and
 * the longest time without any on some partitions (what an outage cost them).
 */
public final class PredictionLog implements AutoCloseable {

    private final KafkaConsumer<String, String> reader;
    private final String prefix;
    private final Map<String, Prediction> byId = new HashMap<>();
    private final Map<Integer, List<Long>> timesByPartition = new HashMap<>();
    private int duplicates;

    /** Reads {@code Topics.PREDICTIONS} on the cluster at {@code bootstrapServers} from its end now. */
    public PredictionLog(final String bootstrapServers, final String prefix) {
        this(bootstrapServers, prefix, Map.of());
    }

    /** As {@link #PredictionLog(String, String)}, with client settings such as security. */
    public PredictionLog(final String bootstrapServers, final String prefix, final Map<String, Object> settings) {
        this.reader = TestClients.consumerAtEnd(bootstrapServers, Topics.PREDICTIONS, settings);
        this.prefix = prefix;
    }

    /** Reads what has arrived; returns how many ids have a prediction. */
    public int poll() {
        for (final ConsumerRecord<String, String> record : reader.poll(Duration.ofMillis(100))) {
            if (record.key() != null && record.key().startsWith(prefix)) {
                final Prediction p = JsonSerde.serdeFor(Prediction.class).deserialize(record.topic(),
                        record.value().getBytes(StandardCharsets.UTF_8));
                if (byId.put(p.id(), p) != null) {
                    duplicates++;
                }
                timesByPartition.computeIfAbsent(record.partition(), n -> new ArrayList<>()).add(p.processingTime());
            }
        }
        return byId.size();
    }

    /** Reads until {@code count} ids have a prediction, or fails after {@code timeout}. */
    public void awaitAtLeast(final int count, final Duration timeout) {
        await().atMost(timeout).until(() -> poll() >= count);
    }

    /** The ids {@code <prefix>0} to {@code <prefix>(count - 1)} without a prediction, by input partition. */
    public Map<Integer, List<Integer>> missing(final int count, final int partitions) {
        final Map<Integer, List<Integer>> missing = new java.util.TreeMap<>();
        for (int i = 0; i < count; i++) {
            final String id = prefix + i;
            if (!byId.containsKey(id)) {
                final int partition = org.apache.kafka.common.utils.Utils.toPositive(
                        org.apache.kafka.common.utils.Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % partitions;
                missing.computeIfAbsent(partition, p -> new ArrayList<>()).add(i);
            }
        }
        return missing;
    }

    public int count() {
        return byId.size();
    }

    public int duplicates() {
        return duplicates;
    }

    /** The predictions read so far, one per id. */
    public Collection<Prediction> predictions() {
        return byId.values();
    }

    /** When the newest prediction so far was made. */
    public long newest() {
        return byId.values().stream().mapToLong(Prediction::processingTime).max().orElseThrow();
    }

    /** When the first prediction made after {@code time} was made, or -1 when none is yet. */
    public long firstAfter(final long time) {
        return byId.values().stream().mapToLong(Prediction::processingTime).filter(t -> t > time).min().orElse(-1);
    }

    /** The longest time, in seconds, between two consecutive predictions on any of {@code partitions}. */
    public double longestGapSeconds(final Collection<Integer> partitions) {
        long longest = 0;
        for (final int partition : partitions) {
            final List<Long> times = new ArrayList<>(timesByPartition.getOrDefault(partition, List.of()));
            times.sort(Long::compare);
            for (int i = 1; i < times.size(); i++) {
                longest = Math.max(longest, times.get(i) - times.get(i - 1));
            }
        }
        return longest / 1000.0;
    }

    /**
     * The labeled images the accuracy rows count in the window holding {@code eventTime}, summed over
     * model versions: each labeled image of a run once, when nothing is counted twice.
     */
    public static long countedInAccuracy(final String bootstrapServers, final long eventTime, final long expected,
            final Duration timeout) {
        final Map<String, Long> total = new HashMap<>();
        try (KafkaConsumer<String, String> rows = new KafkaConsumer<>(TestClients.consumerProps(bootstrapServers),
                new StringDeserializer(), new StringDeserializer())) {
            rows.subscribe(List.of(Topics.ACCURACY));
            try {
                await().atMost(timeout).until(() -> {
                    rows.poll(Duration.ofMillis(200)).forEach(record -> {
                        final ClassAccuracy row = JsonSerde.serdeFor(ClassAccuracy.class).deserialize(record.topic(),
                                record.value().getBytes(StandardCharsets.UTF_8));
                        if (row.trueClass().equals(ClassAccuracy.ALL_CLASSES) && row.windowStart() <= eventTime
                                && eventTime < row.windowEnd()) {
                            total.merge(row.modelVersion(), row.total(), Math::max);
                        }
                    });
                    return total.values().stream().mapToLong(Long::longValue).sum() >= expected;
                });
            } catch (final ConditionTimeoutException e) {
                // Fewer than expected: the caller's assertion says by how many.
            }
        }
        return total.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public void close() {
        reader.close();
    }
}
