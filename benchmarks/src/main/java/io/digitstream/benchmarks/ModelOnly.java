package io.digitstream.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;

/**
 * The classifier alone on batches of the app's batch size, one copy of the network per thread
 * as the app runs it. Its threads live for the whole benchmark, as the app's inference workers
 * do, and wait between measurements: threads made afresh for each measurement set up their
 * native memory (ND4J's workspaces, the allocator's heaps) again every time, which the app's
 * long-lived workers do once.
 */
final class ModelOnly implements AutoCloseable {

    private final List<byte[]> images = new ArrayList<>();
    private final int batch;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicLong classified = new AtomicLong();
    private final Object lock = new Object();
    private boolean running;
    private boolean closed;
    private volatile boolean measuring;

    ModelOnly(final DigitClassifier classifier, final MnistDataset test, final int batch, final int threads) {
        this.batch = batch;
        for (int i = 0; i < batch; i++) {
            images.add(Arrays.copyOfRange(test.pixels(), i * DigitNetwork.PIXELS, (i + 1) * DigitNetwork.PIXELS));
        }
        for (int t = 0; t < threads; t++) {
            final DigitClassifier copy = classifier.copy();
            final Thread worker = new Thread(() -> classify(copy), "model-only-" + t);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
    }

    private void classify(final DigitClassifier copy) {
        try {
            while (true) {
                synchronized (lock) {
                    while (!running && !closed) {
                        lock.wait();
                    }
                    if (closed) {
                        return;
                    }
                }
                copy.classify(images);
                if (measuring) {
                    classified.addAndGet(batch);
                }
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            DigitClassifier.releaseThreadMemory();
        }
    }

    private void setRunning(final boolean run) {
        synchronized (lock) {
            running = run;
            lock.notifyAll();
        }
    }

    /**
     * Images per second for {@code seconds}; with {@code warmUp}, first unmeasured until the JIT
     * compiler has settled, as for the app.
     */
    double measure(final StreamBenchmark benchmark, final int seconds, final boolean warmUp) throws Exception {
        setRunning(true);
        try {
            if (warmUp) {
                benchmark.awaitSettledJit(TimeUnit.SECONDS.toNanos(StreamBenchmark.MODEL_WARM_UP_LIMIT_SECONDS),
                        () -> TimeUnit.SECONDS.sleep(StreamBenchmark.MODEL_WARM_UP_SLICE_SECONDS));
            } else {
                // Beside the app its last round's tail (final commits, the dashboard's reader
                // catching up, the collection of that round's garbage) is not idle yet.
                TimeUnit.SECONDS.sleep(StreamBenchmark.SETTLE_SECONDS);
            }
            classified.set(0);
            measuring = true;
            final long start = System.nanoTime();
            final long cpuStart = StreamBenchmark.PROCESS_CPU.getProcessCpuTime();
            final long modelCpuStart = StreamBenchmark.threadsCpu(workers);
            TimeUnit.SECONDS.sleep(seconds);
            final double wall = System.nanoTime() - start;
            final double perSecond = classified.get() / (wall / 1e9);
            System.out.printf(Locale.ROOT, "model    %,7.0f images/s alone; cores busy: %.2f in all, %.2f in its"
                    + " threads%n", perSecond, (StreamBenchmark.PROCESS_CPU.getProcessCpuTime() - cpuStart) / wall,
                    (StreamBenchmark.threadsCpu(workers) - modelCpuStart) / wall);
            return perSecond;
        } finally {
            measuring = false;
            setRunning(false);
        }
    }

    /** Ends the threads, each freeing its native memory. */
    @Override
    public void close() throws InterruptedException {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        for (final Thread worker : workers) {
            worker.join();
        }
    }
}
