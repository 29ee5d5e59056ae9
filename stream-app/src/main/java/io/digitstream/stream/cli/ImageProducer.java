package io.digitstream.stream.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;

/** Sends image events at a steady rate, and their late labels a little later. */
public final class ImageProducer implements AutoCloseable {

    private static final JsonSerde<DigitLabel> LABELS = JsonSerde.serdeFor(DigitLabel.class);
    /**
     * At a given rate, whenever the next image is not yet due the sender sleeps at least this long,
     * then sends every image that has come due: the producer's linger, so the broker sees the same
     * batches. Woken once per image instead, it took a good part of a core at half the app's rate,
     * CPU taken from whatever shares the machine (docs/benchmarks.md).
     */
    private static final Duration SEND_STEP = Duration.ofMillis(5);

    private final KafkaProducer<String, byte[]> producer;
    private final ScheduledExecutorService lateLabels = Executors.newSingleThreadScheduledExecutor(runnable -> {
        final Thread thread = new Thread(runnable, "late-labels");
        thread.setDaemon(true);
        return thread;
    });
    private final Duration labelDelay;
    /** The first send the cluster refused (credentials, an ACL, a record too large): sending stops at it. */
    private volatile KafkaException failure;
    private final Callback onSent = (metadata, exception) -> {
        if (exception != null && failure == null) {
            failure = exception instanceof KafkaException kafka ? kafka : new KafkaException(exception);
        }
    };

    public ImageProducer(final String bootstrapServers, final Map<String, String> clientSettings,
            final Duration labelDelay) {
        final Properties props = new Properties();
        props.putAll(clientSettings);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, Long.toString(SEND_STEP.toMillis()));
        props.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        this.labelDelay = labelDelay;
    }

    /**
     * Sends {@code images} at {@code rate} per second (0: as fast as possible) until all are sent or
     * {@code stop} says so. Image events get the current time as their timestamp.
     *
     * @param sent called with the number sent so far, every hundred images
     * @return how many were sent
     * @throws KafkaException the first send the cluster refused so far, after which none is sent
     *                        (one refused later is thrown by {@link #close()})
     */
    public int send(final List<Outgoing> images, final double rate, final BooleanSupplier stop,
            final IntConsumer sent) {
        final long start = System.nanoTime();
        int count = 0;
        for (final Outgoing image : images) {
            if (stop.getAsBoolean() || failure != null) {
                break;
            }
            if (rate > 0) {
                final long due = start + (long) (count * 1e9 / rate);
                for (long now = System.nanoTime(); now < due && !stop.getAsBoolean(); now = System.nanoTime()) {
                    LockSupport.parkNanos(Math.min(Math.max(due - now, SEND_STEP.toNanos()),
                            TimeUnit.MILLISECONDS.toNanos(50)));
                }
            }
            producer.send(new ProducerRecord<>(Topics.IMAGES, image.id(), image.value()), onSent);
            if (image.lateLabel() != null) {
                final byte[] label = LABELS.serialize(Topics.LABELS,
                        new DigitLabel(image.id(), image.lateLabel()));
                lateLabels.schedule(() -> producer.send(new ProducerRecord<>(Topics.LABELS, image.id(), label), onSent),
                        labelDelay.toMillis(), TimeUnit.MILLISECONDS);
            }
            count++;
            if (count % 100 == 0) {
                sent.accept(count);
            }
        }
        sent.accept(count);
        if (failure != null) {
            throw failure;
        }
        return count;
    }

    /** Sends what is left, then throws the first send the cluster refused, if one was. */
    @Override
    public void close() {
        lateLabels.shutdown();
        try {
            lateLabels.awaitTermination(labelDelay.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close();
        if (failure != null) {
            throw failure;
        }
    }
}
