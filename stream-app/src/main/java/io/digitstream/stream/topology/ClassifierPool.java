package io.digitstream.stream.topology;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.digitstream.model.Classification;
import io.digitstream.model.DigitClassifier;

/**
 * One network per stream thread, each run by an inference thread of its own: {@code
 * MultiLayerNetwork.output} is synchronized, so threads sharing one network would take turns, and
 * a stream thread that hands its batch over can read, decode and commit while the batch is
 * classified, instead of leaving its core idle during each exactly-once commit.
 */
public final class ClassifierPool implements AutoCloseable {

    private final DigitClassifier prototype;
    private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Worker> perThread = ThreadLocal.withInitial(this::newWorker);

    public ClassifierPool(final DigitClassifier prototype) {
        this.prototype = prototype;
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
        final Worker worker = new Worker(prototype.copy(), Thread.currentThread());
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

    /** One forward pass's answers, in the order of its images, and when it started and ended (nanoTime). */
    public record Batch(List<Classification> results, long startNanos, long endNanos) {

        public long nanos() {
            return endNanos - startNanos;
        }
    }

    /** A network copy and the one thread that runs it. */
    public static final class Worker {

        private final DigitClassifier classifier;
        private final ExecutorService executor;
        /** The stream thread this worker classifies for. */
        private final Thread owner;

        Worker(final DigitClassifier classifier, final Thread owner) {
            this.classifier = classifier;
            this.owner = owner;
            this.executor = Executors.newSingleThreadExecutor(task -> {
                final Thread thread = new Thread(task, "inference-for-" + owner.getName());
                thread.setDaemon(true);
                return thread;
            });
        }

        /** Classifies the images in one forward pass on the worker's thread. */
        public Future<Batch> classify(final List<byte[]> images) {
            return executor.submit(() -> {
                final long start = System.nanoTime();
                final List<Classification> results = classifier.classify(images);
                return new Batch(results, start, System.nanoTime());
            });
        }

        public String modelVersion() {
            return classifier.modelVersion();
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
