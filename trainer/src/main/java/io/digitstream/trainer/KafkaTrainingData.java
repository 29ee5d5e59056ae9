package io.digitstream.trainer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.DecodedImage;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.ImageDecoder;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;

/**
 * Labeled images from Kafka for training: every image event on {@code digits.images} up to a
 * moment, read as the stream app reads it, with its label inline or from {@code digits.labels}.
 * An image sent twice counts once (the last one); unlabeled and invalid events are counted and left
 * out.
 */
final class KafkaTrainingData {

    /** The most images read into memory (784 bytes each). */
    static final int MAX_IMAGES = 2_000_000;
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Training reads the past: event times are not checked against the clock. */
    private static final Duration ANY_TIME = Duration.ofDays(365L * 1000);
    private static final Logger log = LoggerFactory.getLogger(KafkaTrainingData.class);

    private KafkaTrainingData() {
    }

    /** One partition's range read: offsets {@code from} (inclusive) to {@code until} (exclusive). */
    record Range(String topic, int partition, long from, long until) {
    }

    /**
     * What was read and used, for the training report.
     *
     * @param until           the moment read up to (records written before it)
     * @param ranges          each partition's offsets
     * @param images          labeled images used
     * @param perClass        of those, how many of each digit
     * @param labelsJoined    of those, how many took their label from digits.labels
     * @param unlabeled       images left out for want of a label
     * @param invalid         records left out as the stream app would dead-letter them
     * @param duplicates      images sent again under an id already read (the last one counts)
     */
    record Report(Instant until, List<Range> ranges, int images, int[] perClass, int labelsJoined, int unlabeled,
            int invalid, int duplicates) {
    }

    record Data(MnistDataset dataset, Report report) {
    }

    static Data read(final Map<String, Object> clientConfig, final Instant until) {
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            final List<Range> ranges = new ArrayList<>();
            final Map<String, Integer> labels = new HashMap<>();
            final int[] invalid = {0};
            readTopic(consumer, Topics.LABELS, until, ranges, record -> {
                try {
                    final DigitLabel label = JsonSerde.serdeFor(DigitLabel.class).deserialize(record.topic(),
                            record.value());
                    final String id = ImageDecoder.checkId(record.key(), label.id(), "label");
                    if (label.label() == null || label.label() < 0 || label.label() >= DigitImage.DIGITS) {
                        throw new IllegalArgumentException("not a digit");
                    }
                    labels.put(id, label.label());
                } catch (final RuntimeException e) {
                    invalid[0]++;
                }
            });
            final Map<String, DecodedImage> images = new LinkedHashMap<>();
            final int[] duplicates = {0};
            readTopic(consumer, Topics.IMAGES, until, ranges, record -> {
                try {
                    final DigitImage image = JsonSerde.serdeFor(DigitImage.class).deserialize(record.topic(),
                            record.value());
                    final DecodedImage decoded = ImageDecoder.decode(record.key(), image, record.timestamp(),
                            System.currentTimeMillis(), ANY_TIME);
                    if (images.remove(decoded.id()) != null) {
                        duplicates[0]++;
                    }
                    if (images.size() >= MAX_IMAGES) {
                        throw new IllegalStateException(Topics.IMAGES + " holds more than " + MAX_IMAGES
                                + " images before " + until + "; pass an earlier --kafka-until");
                    }
                    images.put(decoded.id(), decoded);
                } catch (final IllegalStateException e) {
                    throw e;
                } catch (final RuntimeException e) {
                    invalid[0]++;
                }
            });
            return assemble(images, labels, until, ranges, invalid[0], duplicates[0]);
        }
    }

    private static Data assemble(final Map<String, DecodedImage> images, final Map<String, Integer> labels,
            final Instant until, final List<Range> ranges, final int invalid, final int duplicates) {
        final byte[] pixels = new byte[images.size() * DigitImage.PIXELS];
        final byte[] digits = new byte[images.size()];
        final int[] perClass = new int[DigitImage.DIGITS];
        int count = 0;
        int joined = 0;
        int unlabeled = 0;
        for (final DecodedImage image : images.values()) {
            Integer label = image.label();
            if (label == null) {
                label = labels.get(image.id());
                if (label == null) {
                    unlabeled++;
                    continue;
                }
                joined++;
            }
            System.arraycopy(image.pixels(), 0, pixels, count * DigitImage.PIXELS, DigitImage.PIXELS);
            digits[count++] = label.byteValue();
            perClass[label]++;
        }
        final byte[] usedPixels = java.util.Arrays.copyOf(pixels, count * DigitImage.PIXELS);
        final byte[] usedLabels = java.util.Arrays.copyOf(digits, count);
        final Report report = new Report(until, ranges, count, perClass, joined, unlabeled, invalid, duplicates);
        log.info("Read {} labeled images from Kafka ({} labels joined; left out: {} unlabeled, {} invalid, {}"
                + " sent again)", count, joined, unlabeled, invalid, duplicates);
        return new Data(new MnistDataset(usedPixels, usedLabels, count), report);
    }

    /** Reads every partition of {@code topic} from its start to the first offset at or after {@code until}. */
    private static void readTopic(final KafkaConsumer<String, byte[]> consumer, final String topic,
            final Instant until, final List<Range> ranges,
            final java.util.function.Consumer<ConsumerRecord<String, byte[]>> sink) {
        final List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist on the cluster; produce images"
                    + " to it first (./run stream-app produce)");
        }
        final List<TopicPartition> partitions = infos.stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
        final Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, TIMEOUT);
        final Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
        final Map<TopicPartition, Long> stop = new HashMap<>(end);
        final Map<TopicPartition, Long> times = new HashMap<>();
        partitions.forEach(partition -> times.put(partition, until.toEpochMilli()));
        final Map<TopicPartition, OffsetAndTimestamp> atTime = consumer.offsetsForTimes(times, TIMEOUT);
        atTime.forEach((partition, offset) -> {
            if (offset != null) {
                stop.put(partition, Math.min(offset.offset(), end.get(partition)));
            }
        });
        partitions.forEach(partition -> ranges.add(new Range(topic, partition.partition(), begin.get(partition),
                stop.get(partition))));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        final long deadline = System.nanoTime() + TIMEOUT.toNanos() * 10;
        while (partitions.stream().anyMatch(partition -> consumer.position(partition) < stop.get(partition))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read " + topic + " to " + until + " within "
                        + TIMEOUT.multipliedBy(10).toMinutes() + " minutes");
            }
            for (final ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                final TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                if (record.offset() < stop.get(partition) && record.value() != null) {
                    sink.accept(record);
                }
            }
            // Partitions read to their stop offset are not read further.
            consumer.pause(partitions.stream()
                    .filter(partition -> consumer.position(partition) >= stop.get(partition)).toList());
        }
        consumer.unsubscribe();
    }
}
