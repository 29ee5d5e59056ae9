package io.digitstream.stream.topology;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.digitstream.model.Classification;
import io.digitstream.schemas.DecodedImage;
import io.digitstream.schemas.Prediction;

/**
 * Classifies images in micro-batches: up to {@code batchSize} images, or whatever arrived within
 * {@code batchWait}, go through the network in one forward pass, and their predictions leave in
 * input order.
 *
 * <p>The forward pass runs on the stream thread's inference worker ({@link ClassifierPool}): while
 * a batch is classified, the stream thread goes on reading, decoding and committing, and collects
 * the next batch, which leaves when it is full or once the batch wait has passed. Up to {@value
 * #IN_FLIGHT} batches are handed over at a time, one in its forward pass and the next queued behind
 * it, so the worker still has work while its stream thread waits on an exactly-once commit. A batch
 * that leaves on the wait while the worker is idle, as under light load, is waited for at once.
 * Predictions are forwarded, in input order, as soon as the stream thread sees them done. With
 * {@code overlapInference} off, each batch is waited for as soon as it is handed over.
 *
 * <p>The buffer is a changelogged state store, not a list: under exactly-once a commit covers the
 * input offsets of buffered images, so the buffer itself must be in the same transaction to survive
 * a crash. An image leaves the store only when its prediction is forwarded, so a commit while its
 * batch is being classified still holds it, and a restarted task finds it restored and classifies
 * it again.
 *
 * <p>The batch wait's timers run only while the buffer holds images or has held one within the last
 * {@link #IDLE_BEFORE_TIMERS_STOP}: Kafka Streams commits a task after every punctuation, so timers
 * left running made an idle app commit a transaction ten times a second per stream thread.
 *
 * <p>Under exactly-once, predictions become visible when their transaction commits, so the commit
 * interval bounds latency while the worker keeps up; once it cannot (a backlog), each commit's
 * requests to the broker and waits only take CPU from the forward passes, and latency is the
 * backlog's. So, given a {@link TopologySettings#commitInterval()}, Kafka Streams' own interval is
 * the longer one for that case, and the stream thread asks for a commit at the short interval
 * whenever it forwards predictions, unless it is {@link #backlogged(long) backlogged}.
 */
public final class BatchingClassifier implements Processor<String, DecodedImage, String, Classified> {

    public static final String BUFFER_STORE = "inference-buffer";
    /** How often, per batch wait, a finished batch is looked for when no image arrives to look for it. */
    private static final int CHECKS_PER_WAIT = 4;
    /** Most batches handed over and not yet forwarded: one in its forward pass, one queued. */
    static final int IN_FLIGHT = 2;
    /** How long the buffer stays empty before the batch wait's timers stop, until the next image. */
    public static final Duration IDLE_BEFORE_TIMERS_STOP = Duration.ofSeconds(1);
    /**
     * How long every hand-over must have found the worker busy, and how long the images it forwards
     * must have waited since they were sent, before the stream thread counts as backlogged: longer
     * than a hiccup of the host leaves behind under light load, and past the latency a commit
     * interval matters to.
     */
    static final Duration BACKLOG_AFTER = Duration.ofMillis(500);
    /**
     * How long the images just forwarded must have waited, from being sent until this stream thread
     * read them, for it to count as far behind whatever keeps it: a commit asked after each batch,
     * when each commit takes a second (a loaded replicated cluster), let each transaction carry a few
     * images, and a fresh cluster fell minutes behind 150 images a second.
     */
    static final Duration FAR_BEHIND_AFTER = Duration.ofSeconds(5);

    private final ClassifierPool pool;
    private final TopologySettings settings;
    private final StreamMetrics metrics;
    private final ClassifiedImages classified;
    private ProcessorContext<String, Classified> context;
    private KeyValueStore<Bytes, DecodedImage> buffer;
    /** The buffer's images not yet handed over, in input order, so a batch reads nothing back from the store. */
    private final List<Buffered> pending = new ArrayList<>();
    /** The pending images have waited the batch wait: they leave as soon as there is room in flight. */
    private boolean pendingDue;
    /** The batches handed over, oldest first. */
    private final Deque<InFlight> inFlight = new ArrayDeque<>();
    private ClassifierPool.Worker worker;
    private long nextSequence;
    /** The batch wait's timers while they run, else null. */
    private Cancellable batchTimer;
    private Cancellable checkTimer;
    /** When the last image arrived, by Kafka Streams' wall clock, which punctuations are timed by. */
    private long lastImageAtMs;
    /** Since when every hand-over has found the worker busy with an earlier batch, or -1. */
    private long busySinceMs = -1;
    /** When this processor last asked for a commit, by Kafka Streams' wall clock. */
    private long commitAskedAtMs;

    /**
     * An image in the buffer: its arrival number, its key in the store ({@link SequenceKeys}), and
     * when the stream thread read it.
     */
    private record Buffered(long sequence, Bytes key, DecodedImage image, long readAtMs) {
    }

    private record InFlight(List<Buffered> images, long handedOverAtMs, long handedOverNanos,
            Future<ClassifierPool.Batch> results) {
    }

    public BatchingClassifier(final ClassifierPool pool, final TopologySettings settings, final StreamMetrics metrics,
            final ClassifiedImages classified) {
        this.pool = pool;
        this.settings = settings;
        this.metrics = metrics;
        this.classified = classified;
    }

    @Override
    public void init(final ProcessorContext<String, Classified> processorContext) {
        this.context = processorContext;
        this.buffer = processorContext.getStateStore(BUFFER_STORE);
        UnloggedDeletes.skip(buffer);
        this.worker = pool.forCurrentThread();
        // Kafka Streams initializes a processor again when its task resumes after a rebalance: the
        // store is the truth, and timers of the earlier run are gone (a stale one kept the wait from
        // ever starting again, so the last images of a partition waited for more that never came).
        forget();
        final long restoredAt = System.currentTimeMillis();
        try (KeyValueIterator<Bytes, DecodedImage> restored = buffer.all()) {
            restored.forEachRemaining(entry -> pending.add(new Buffered(SequenceKeys.sequence(entry.key), entry.key,
                    entry.value, restoredAt)));
        }
        pending.sort(Comparator.comparingLong(Buffered::sequence));
        if (!pending.isEmpty()) {
            nextSequence = pending.get(pending.size() - 1).sequence() + 1;
            startTimers();
        }
    }

    /** Notes that an image arrived, and starts the batch wait's timers unless they run. */
    private void startTimers() {
        lastImageAtMs = context.currentSystemTimeMs();
        if (batchTimer != null) {
            return;
        }
        batchTimer = context.schedule(settings.batchWait(), PunctuationType.WALL_CLOCK_TIME, now -> {
            pendingDue = !pending.isEmpty();
            forwardIfDone();
            stopTimersIfIdle(now);
        });
        final Duration check = settings.batchWait().dividedBy(CHECKS_PER_WAIT);
        checkTimer = context.schedule(check.isZero() ? Duration.ofMillis(1) : check, PunctuationType.WALL_CLOCK_TIME,
                now -> forwardIfDone());
    }

    /** Stops the timers once nothing is buffered or in flight and no image came for a while. */
    private void stopTimersIfIdle(final long now) {
        if (pending.isEmpty() && inFlight.isEmpty() && now - lastImageAtMs >= IDLE_BEFORE_TIMERS_STOP.toMillis()) {
            batchTimer.cancel();
            checkTimer.cancel();
            batchTimer = null;
            checkTimer = null;
        }
    }

    @Override
    public void process(final Record<String, DecodedImage> record) {
        startTimers();
        final long sequence = nextSequence++;
        final Bytes key = SequenceKeys.key(sequence);
        buffer.put(key, record.value());
        pending.add(new Buffered(sequence, key, record.value(), System.currentTimeMillis()));
        metrics.imageIn();
        forwardIfDone();
        if (pending.size() >= settings.batchSize()) {
            if (inFlight.size() >= IN_FLIGHT) {
                forwardOldest();
            }
            handOver();
        }
    }

    /** Forwards finished batches, then hands over pending images that have waited long enough. */
    private void forwardIfDone() {
        while (!inFlight.isEmpty() && inFlight.peek().results().isDone()) {
            forwardOldest();
        }
        if (pendingDue && inFlight.size() < IN_FLIGHT) {
            // A batch the wait sent off while the worker was idle is waited for at once: the load is
            // light, and waiting is the shortest path to the next commit. Left to a later look, it
            // could wait out a poll of the stream thread instead (half-load p99 +50-140 ms).
            final boolean workerIdle = inFlight.isEmpty();
            handOver();
            if (workerIdle && !inFlight.isEmpty()) {
                forwardOldest();
            }
        }
    }

    /** Gives the worker every pending image as one batch; there must be room in flight. */
    private void handOver() {
        if (inFlight.isEmpty()) {
            busySinceMs = -1;
        } else if (busySinceMs < 0) {
            busySinceMs = context.currentSystemTimeMs();
        }
        final List<Buffered> batch = new ArrayList<>(pending);
        pending.clear();
        pendingDue = false;
        final List<byte[]> pixels = new ArrayList<>(batch.size());
        for (final Buffered entry : batch) {
            pixels.add(entry.image().pixels());
        }
        inFlight.add(new InFlight(batch, System.currentTimeMillis(), System.nanoTime(), worker.classify(pixels)));
        if (!settings.overlapInference()) {
            forwardOldest();
        }
    }

    /** Waits for the oldest batch in flight and forwards its predictions in input order. */
    private void forwardOldest() {
        final InFlight batch = inFlight.remove();
        final ClassifierPool.Batch done = await(batch.results());
        final List<Classification> results = done.results();
        metrics.batch(results.size(), done.nanos());
        metrics.handOver(done.startNanos() - batch.handedOverNanos(), System.nanoTime() - done.endNanos());
        // The system clock, not Kafka Streams' cached one: that was read once per round of
        // processing, before this thread waited for the forward pass.
        final long now = System.currentTimeMillis();
        final int partition = context.taskId().partition();
        final String modelVersion = done.modelVersion();
        for (int i = 0; i < results.size(); i++) {
            final Buffered buffered = batch.images().get(i);
            final DecodedImage image = buffered.image();
            final Classification result = results.get(i);
            final Integer label = image.label();
            final Prediction prediction = new Prediction(image.id(), result.predicted(), result.confidence(),
                    result.probabilities(), modelVersion, label,
                    label == null ? null : label == result.predicted(), image.eventTime(), now);
            Prediction shadow = null;
            if (done.shadowResults() != null) {
                final Classification second = done.shadowResults().get(i);
                shadow = new Prediction(image.id(), second.predicted(), second.confidence(), second.probabilities(),
                        done.shadowVersion(), label, label == null ? null : label == second.predicted(),
                        image.eventTime(), now);
                metrics.shadowPrediction(second.predicted() == result.predicted());
            }
            metrics.prediction(result.predicted(), result.confidence(), now - image.eventTime());
            metrics.stages(buffered.readAtMs() - image.eventTime(), batch.handedOverAtMs() - buffered.readAtMs(),
                    now - batch.handedOverAtMs());
            classified.classified(image.id(), image.pixels());
            // Dated by event time, but never ahead of the clock (Kafka Streams', as the decode stage
            // did): the broker refuses records far ahead, and windows would take them as the present.
            context.forward(new Record<>(image.id(), new Classified(prediction, shadow, partition),
                    Math.min(image.eventTime(), context.currentSystemTimeMs())));
            // put(null) deletes like delete() without reading back and decoding the old value.
            buffer.put(buffered.key(), null);
        }
        final Duration commitInterval = settings.commitInterval();
        final long askAt = context.currentSystemTimeMs();
        final Buffered first = batch.images().get(0);
        if (commitInterval != null && askAt - commitAskedAtMs >= commitInterval.toMillis()
                && !backlogged(now - first.image().eventTime(), first.readAtMs() - first.image().eventTime())) {
            context.commit();
            commitAskedAtMs = askAt;
        }
    }

    /**
     * Whether every hand-over for {@link #BACKLOG_AFTER} has found the worker busy with an earlier
     * batch and the images just forwarded, {@code ageMs} old, waited at least as long: a backlog, not
     * a hiccup. The first hand-over to an idle worker ends it. Images that waited {@link
     * #FAR_BEHIND_AFTER} before this thread read them ({@code unreadMs}) are a backlog whatever holds
     * the thread back (images dated long ago by their producer, a replay, are taken so too: they wait
     * Kafka Streams' commit interval instead of the shorter one).
     */
    private boolean backlogged(final long ageMs, final long unreadMs) {
        return unreadMs >= FAR_BEHIND_AFTER.toMillis() || busySinceMs >= 0
                && context.currentSystemTimeMs() - busySinceMs >= BACKLOG_AFTER.toMillis()
                && ageMs >= BACKLOG_AFTER.toMillis();
    }

    private static ClassifierPool.Batch await(final Future<ClassifierPool.Batch> results) {
        try {
            return results.get();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StreamsException("interrupted while waiting for a forward pass", e);
        } catch (final ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime
                    : new StreamsException("forward pass failed", e.getCause());
        }
    }

    /**
     * Drops the batches still in flight without forwarding them: their images are still in the
     * buffer store, so whoever gets this task next classifies them again.
     */
    @Override
    public void close() {
        forget();
    }

    /** Drops what this run held in memory; the buffer store keeps every image not yet forwarded. */
    private void forget() {
        inFlight.forEach(batch -> batch.results().cancel(false));
        inFlight.clear();
        pending.clear();
        pendingDue = false;
        nextSequence = 0;
        batchTimer = null;
        checkTimer = null;
        busySinceMs = -1;
    }
}
