package io.digitstream.stream;

import static io.digitstream.stream.TestFixtures.json;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.Topics;

/**
 * Labeled MNIST test images sent to digits.images at a steady rate on a thread of its own, ids
 * {@code <prefix><n>}, all with one event time (so one day-long accuracy window holds a run), or
 * each with the time it was sent ({@link #SENT_AT}), for its latency.
 */
public final class SteadyImages implements AutoCloseable {

    /** The event time that stamps each image with the moment it is sent. */
    public static final long SENT_AT = -1;

    private final Thread thread;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger sent = new AtomicInteger();

    private SteadyImages(final KafkaProducer<String, String> producer, final String prefix, final int count,
            final int perSecond, final long eventTime) {
        final MnistDataset test = TestFixtures.mnist().test();
        this.thread = new Thread(() -> {
            final long start = System.nanoTime();
            for (int i = 0; i < count && !stop.get(); i++) {
                final String id = prefix + i;
                final int index = i % test.count();
                producer.send(new ProducerRecord<>(Topics.IMAGES, id, json(DigitImage.ofPixels(id,
                        TestFixtures.pixels(index), test.label(index),
                        eventTime == SENT_AT ? System.currentTimeMillis() : eventTime, "steady"))));
                sent.incrementAndGet();
                final long wait = start + (i + 1) * (1_000_000_000L / perSecond) - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (final InterruptedException e) {
                        return;
                    }
                }
            }
            producer.flush();
        }, "steady-images");
    }

    /**
     * Starts sending {@code count} images, {@code perSecond} a second, through {@code producer}, with
     * {@code eventTime} or {@link #SENT_AT}.
     */
    public static SteadyImages start(final KafkaProducer<String, String> producer, final String prefix,
            final int count, final int perSecond, final long eventTime) {
        final SteadyImages images = new SteadyImages(producer, prefix, count, perSecond, eventTime);
        images.thread.start();
        return images;
    }

    public int sent() {
        return sent.get();
    }

    /** Waits until every image is sent and flushed. */
    public void awaitSent() throws InterruptedException {
        thread.join();
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join();
    }
}
