package io.digitstream.stream.topology;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.model.Classification;
import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;

/**
 * One network per stream thread, each run by an inference thread of its own: {@code
 * MultiLayerNetwork.output} is synchronized, so threads sharing one network would take turns, and
 * a stream thread that hands its batch over can read, decode and commit while the batch is
 * classified, instead of leaving its core idle during each exactly-once commit.
 *
 * <p>The model can change while the app runs ({@link #serve}): each worker takes the new network
 * on its own thread just before its next forward pass, so no batch mixes versions, and a stream
 * thread's batches, classified in order, never go back to the old version after the new one. A
 * shadow model, when there is one, classifies each batch too, after the live one.
 */
public final class ClassifierPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClassifierPool.class);

    /**
     * What the pool serves: its number in the order of changes, and the networks workers copy, the
     * live one and the shadow (or null).
     */
    private record Generation(long number, DigitClassifier prototype, DigitClassifier shadow) {
    }

    private volatile Generation current;
    /** The newest generation a forward pass has used, and who is told when a newer one first does. */
    private final AtomicLong firstServed = new AtomicLong();
    private volatile Consumer<String> onFirstBatch = version -> {
    };
    private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Worker> perThread = ThreadLocal.withInitial(this::newWorker);

    public ClassifierPool(final DigitClassifier prototype) {
        this.current = new Generation(0, prototype, null);
    }

    /** The version the pool serves now; a worker may still finish a batch of the one before. */
    public String modelVersion() {
        return current.prototype().modelVersion();
    }

    /** The network the pool serves now. */
    public DigitClassifier live() {
        return current.prototype();
    }

    /** The shadow network, or null. */
    public DigitClassifier shadow() {
        return current.shadow();
    }

    /** The shadow model's version, or null. */
    public String shadowVersion() {
        final DigitClassifier shadow = current.shadow();
        return shadow == null ? null : shadow.modelVersion();
    }

    /**
     * Serves {@code live}, and {@code shadow} beside it (or none when null), from each worker's next
     * forward pass. Each worker's copies are made (and run once, so their memory is in place) here,
     * before the switch, so a worker only swaps references.
     */
    public synchronized void serve(final DigitClassifier live, final DigitClassifier shadow) {
        final Generation generation = new Generation(current.number() + 1, live, shadow);
        for (final Worker worker : workers) {
            worker.prepare(generation, warmedCopy(live), shadow == null ? null : warmedCopy(shadow));
        }
        current = generation;
        log.info("Serving model {}{} from the next batch on ({} workers)", live.modelVersion(),
                shadow == null ? "" : " with " + shadow.modelVersion() + " in shadow", workers.size());
    }

    /** Tells {@code listener} the version each time a forward pass first uses a newly switched-to model. */
    public void onFirstBatch(final Consumer<String> listener) {
        this.onFirstBatch = listener;
    }

    private void served(final long generation, final String version) {
        for (long seen = firstServed.get(); generation > seen; seen = firstServed.get()) {
            if (firstServed.compareAndSet(seen, generation)) {
                onFirstBatch.accept(version);
                return;
            }
        }
    }

    private static DigitClassifier warmedCopy(final DigitClassifier prototype) {
        final DigitClassifier copy = prototype.copy();
        copy.classify(List.of(new byte[DigitNetwork.PIXELS]));
        return copy;
    }

    /** The calling stream thread's worker, created on first use. */
    public Worker forCurrentThread() {
        return perThread.get();
    }

    private Worker newWorker() {
        // A stream thread that failed and was replaced has ended: its worker would wait for batches
        // that never come, holding a thread and a network copy until the app stops.
        workers.removeIf(worker -> {
            if (!worker.owner.isAlive()) {
                worker.stop();
                return true;
            }
            return false;
        });
        final Generation generation = current;
        final Worker worker = new Worker(this, generation, Thread.currentThread());
        workers.add(worker);
        return worker;
    }

    /**
     * Stops every worker's thread; a batch in its forward pass finishes first, and each thread frees
     * its native memory before it ends.
     */
    @Override
    public void close() {
        workers.forEach(Worker::stop);
        workers.clear();
    }

    /**
     * One forward pass's answers, in the order of its images, the model version that gave them, and
     * when it started and ended (nanoTime); with a shadow model, its answers and version too, else null.
     */
    public record Batch(List<Classification> results, String modelVersion, long startNanos, long endNanos,
            List<Classification> shadowResults, String shadowVersion) {

        public long nanos() {
            return endNanos - startNanos;
        }
    }

    /** A network copy and the one thread that runs it. */
    public static final class Worker {

        private final ClassifierPool pool;
        /** The networks and their generation; read and replaced only on the worker's thread. */
        private DigitClassifier classifier;
        private DigitClassifier shadow;
        private long generation;
        /** Copies of a newer generation's networks made ahead of the switch, taken at the next batch. */
        private final AtomicReference<Prepared> prepared = new AtomicReference<>();
        private final ExecutorService executor;
        /** The stream thread this worker classifies for. */
        private final Thread owner;

        private record Prepared(long generation, DigitClassifier classifier, DigitClassifier shadow) {
        }

        Worker(final ClassifierPool pool, final Generation generation, final Thread owner) {
            this.pool = pool;
            this.generation = generation.number();
            this.classifier = generation.prototype().copy();
            this.shadow = generation.shadow() == null ? null : generation.shadow().copy();
            this.owner = owner;
            this.executor = Executors.newSingleThreadExecutor(task -> {
                final Thread thread = new Thread(task, "inference-for-" + owner.getName());
                thread.setDaemon(true);
                return thread;
            });
        }

        /** Classifies the images in one forward pass on the worker's thread, with the pool's current model. */
        public Future<Batch> classify(final List<byte[]> images) {
            return executor.submit(() -> {
                takeCurrentModel();
                final long start = System.nanoTime();
                final List<Classification> results = classifier.classify(images);
                final long end = System.nanoTime();
                pool.served(generation, classifier.modelVersion());
                return new Batch(results, classifier.modelVersion(), start, end,
                        shadow == null ? null : shadow.classify(images),
                        shadow == null ? null : shadow.modelVersion());
            });
        }

        /** On the worker's thread, between batches: moves to the pool's current model if it changed. */
        private void takeCurrentModel() {
            final Generation target = pool.current;
            if (target.number() == generation) {
                return;
            }
            final Prepared ready = prepared.getAndSet(null);
            if (ready != null && ready.generation() == target.number()) {
                classifier = ready.classifier();
                shadow = ready.shadow();
            } else {
                classifier = target.prototype().copy();
                shadow = target.shadow() == null ? null : target.shadow().copy();
            }
            generation = target.number();
        }

        void prepare(final Generation next, final DigitClassifier copy, final DigitClassifier shadowCopy) {
            prepared.set(new Prepared(next.number(), copy, shadowCopy));
        }

        /** Whether this worker's thread has been told to end, once its last batch is done. */
        boolean stopped() {
            return executor.isShutdown();
        }

        /** Synchronized: a closing pool and a new stream thread's sweep may stop the same worker. */
        private synchronized void stop() {
            if (!executor.isShutdown()) {
                executor.execute(DigitClassifier::releaseThreadMemory);
                executor.shutdown();
            }
        }
    }
}
