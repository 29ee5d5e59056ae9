package io.digitstream.stream;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.digitstream.model.Classification;
import io.digitstream.model.DigitClassifier;
import io.digitstream.schemas.Prediction;

/**
 * Classifies images in micro-batches: up to {@code batchSize} images, or whatever arrived within
 * {@code batchWait}, go through the network in one forward pass, and their predictions leave in
 * input order.
 *
 * <p>The buffer is a changelogged state store, not a list: under exactly-once a commit covers the
 * input offsets of buffered images, so the buffer itself must be in the same transaction to survive
 * a crash. A restarted task finds its buffer restored and flushes it.
 */
public final class BatchingClassifier implements Processor<String, DecodedImage, String, Prediction> {

    public static final String BUFFER_STORE = "inference-buffer";

    private final ClassifierPool pool;
    private final TopologySettings settings;
    private final StreamMetrics metrics;
    private ProcessorContext<String, Prediction> context;
    private KeyValueStore<Long, DecodedImage> buffer;
    /** The buffer's contents in input order, so a flush reads nothing back from the store. */
    private final List<KeyValue<Long, DecodedImage>> pending = new ArrayList<>();
    private DigitClassifier classifier;
    private long nextSequence;

    public BatchingClassifier(final ClassifierPool pool, final TopologySettings settings, final StreamMetrics metrics) {
        this.pool = pool;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void init(final ProcessorContext<String, Prediction> processorContext) {
        this.context = processorContext;
        this.buffer = processorContext.getStateStore(BUFFER_STORE);
        this.classifier = pool.forCurrentThread();
        metrics.modelVersion(classifier.modelVersion());
        try (KeyValueIterator<Long, DecodedImage> restored = buffer.all()) {
            restored.forEachRemaining(pending::add);
        }
        if (!pending.isEmpty()) {
            nextSequence = pending.get(pending.size() - 1).key + 1;
        }
        processorContext.schedule(settings.batchWait(), PunctuationType.WALL_CLOCK_TIME, now -> flush());
    }

    @Override
    public void process(final Record<String, DecodedImage> record) {
        final long sequence = nextSequence++;
        buffer.put(sequence, record.value());
        pending.add(KeyValue.pair(sequence, record.value()));
        metrics.imageIn();
        if (pending.size() >= settings.batchSize()) {
            flush();
        }
    }

    /** Classifies everything buffered in one forward pass and forwards the predictions in input order. */
    void flush() {
        if (pending.isEmpty()) {
            return;
        }
        final List<KeyValue<Long, DecodedImage>> batch = new ArrayList<>(pending);
        pending.clear();
        final List<byte[]> pixels = new ArrayList<>(batch.size());
        for (final KeyValue<Long, DecodedImage> entry : batch) {
            pixels.add(entry.value.pixels());
        }
        final long start = System.nanoTime();
        final List<Classification> results = classifier.classify(pixels);
        metrics.batch(batch.size(), System.nanoTime() - start);
        final long now = context.currentSystemTimeMs();
        for (int i = 0; i < batch.size(); i++) {
            final DecodedImage image = batch.get(i).value;
            final Classification result = results.get(i);
            final Integer label = image.label();
            final Prediction prediction = new Prediction(image.id(), result.predicted(), result.confidence(),
                    result.probabilities(), classifier.modelVersion(), label,
                    label == null ? null : label == result.predicted(), image.eventTime(), now);
            metrics.prediction(result.predicted(), result.confidence(), now - image.eventTime());
            metrics.rememberImage(image.id(), image.pixels());
            context.forward(new Record<>(image.id(), prediction, image.eventTime()));
            // put(null) deletes like delete() without reading back and decoding the old value.
            buffer.put(batch.get(i).key, null);
        }
    }
}
