package io.digitstream.benchmarks;

import java.time.Duration;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

import io.digitstream.model.DigitClassifier;
import io.digitstream.schemas.DecodedImage;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.ImageDecoder;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;
import io.digitstream.stream.service.AppConfig;

/**
 * The baseline a user would compare the stream app against: the same model and broker in a Kafka
 * Streams app that classifies each record as it comes, one forward pass per image in a
 * {@code mapValues}, as the public Kafka Streams + DL4J examples do. It runs with the stream app's
 * Kafka Streams settings (exactly-once, its stream threads) and a copy of the network per stream
 * thread, so what differs is the per-record pattern alone: no micro-batches, no inference worker.
 */
final class PerRecordApp implements AutoCloseable {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ANY_SKEW = Duration.ofDays(365);

    private final KafkaStreams streams;

    private PerRecordApp(final KafkaStreams streams) {
        this.streams = streams;
    }

    /** Starts it on the stream app's cluster, reading only images sent from now on. */
    static PerRecordApp start(final AppConfig config, final DigitClassifier classifier) {
        final ThreadLocal<DigitClassifier> network = ThreadLocal.withInitial(classifier::copy);
        final StreamsBuilder builder = new StreamsBuilder();
        builder.stream(Topics.IMAGES, Consumed.with(Serdes.String(), JsonSerde.serdeFor(DigitImage.class)))
                .mapValues(image -> classify(network.get(), image))
                .to(Topics.PREDICTIONS, Produced.with(Serdes.String(), JsonSerde.serdeFor(Prediction.class)));
        final Properties props = config.streamsProperties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "per-record-" + UUID.randomUUID());
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "latest");
        final KafkaStreams streams = new KafkaStreams(builder.build(), props);
        streams.start();
        return new PerRecordApp(streams);
    }

    private static Prediction classify(final DigitClassifier network, final DigitImage image) {
        final long now = System.currentTimeMillis();
        final DecodedImage decoded = ImageDecoder.decode(null, image, now, now, ANY_SKEW);
        final float[] probabilities = network.probabilities(decoded.pixels(), 0, 1).toFloatVector();
        int predicted = 0;
        for (int digit = 1; digit < probabilities.length; digit++) {
            if (probabilities[digit] > probabilities[predicted]) {
                predicted = digit;
            }
        }
        final Integer label = decoded.label();
        return new Prediction(decoded.id(), predicted, probabilities[predicted], probabilities,
                network.modelVersion(), label, label == null ? null : label == predicted, decoded.eventTime(),
                System.currentTimeMillis());
    }

    /** Waits until its stream threads have their partitions, at most {@code timeout}. */
    void awaitRunning(final Duration timeout) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("per-record app not RUNNING after " + timeout.toSeconds() + " s: "
                        + streams.state());
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        streams.close(CLOSE_TIMEOUT);
        streams.cleanUp();
    }
}
