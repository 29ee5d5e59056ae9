package io.digitstream.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the process does while predictions stop coming at half load. A stall is the newest
 * prediction read having been sent more than {@link #STALL_MILLIS} ago (at half load it is at
 * most a few hundred milliseconds). Every 50 ms the sampler notes how late its own wake-up came
 * (a whole process held up, by the host or by a GC pause, makes every thread late) and the GC's
 * pause time; during a stall it also takes the top frames of the stream threads, the inference
 * workers, the producers' I/O threads and the broker's request, marker and coordinator threads.
 * Printed after the run, stacks most frequent first.
 */
final class StallSampler implements AutoCloseable {

    static final long STALL_MILLIS = 500;
    private static final long TICK_MILLIS = 50;
    /** A wake-up this much later than asked for counts as a hiccup. */
    private static final long HICCUP_MILLIS = 25;
    private static final int FRAMES = 6;
    private static final List<String> WATCHED = List.of("StreamThread", "inference-for-", "kafka-producer-network",
            "request-handler", "TxnMarkerSender", "AddPartitionsToTxnSender", "group-coordinator",
            "transaction-coordinator");

    /** Event time of the newest prediction read, epoch milliseconds; 0 until the first. */
    final AtomicLong newestRead = new AtomicLong();
    private final Map<String, Integer> stacks = new HashMap<>();
    /** Per stall: start (epoch ms), longest lag (ms), hiccups within it (ms), GC pauses within it (ms). */
    private final List<long[]> stalls = new ArrayList<>();
    private final Thread thread = new Thread(this::sample, "bench-stall-sampler");
    private volatile boolean running = true;
    private int samples;
    private long hiccups;
    private long hiccupMillis;
    private long longestHiccup;

    StallSampler() {
        thread.setDaemon(true);
        thread.start();
    }

    private void sample() {
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] stall = null;
        long gcBefore = gcMillis();
        long before = System.nanoTime();
        while (running) {
            try {
                TimeUnit.MILLISECONDS.sleep(TICK_MILLIS);
            } catch (final InterruptedException e) {
                return;
            }
            final long now = System.nanoTime();
            final long late = TimeUnit.NANOSECONDS.toMillis(now - before) - TICK_MILLIS;
            before = now;
            final long gc = gcMillis();
            final long gcPaused = gc - gcBefore;
            gcBefore = gc;
            final long newest = newestRead.get();
            final long lag = newest == 0 ? 0 : System.currentTimeMillis() - newest;
            synchronized (this) {
                if (late > HICCUP_MILLIS) {
                    hiccups++;
                    hiccupMillis += late;
                    longestHiccup = Math.max(longestHiccup, late);
                }
                if (lag <= STALL_MILLIS) {
                    stall = null;
                    continue;
                }
                if (stall == null) {
                    stall = new long[] {System.currentTimeMillis() - lag, 0, 0, 0};
                    stalls.add(stall);
                }
                stall[1] = lag;
                stall[2] += Math.max(0, late);
                stall[3] += gcPaused;
                samples++;
                for (final ThreadInfo info : threads.dumpAllThreads(false, false, FRAMES)) {
                    final String name = info.getThreadName();
                    WATCHED.stream().filter(name::contains).findFirst().ifPresent(group -> stacks.merge(
                            group + " " + info.getThreadState() + ": " + frames(info), 1, Integer::sum));
                }
            }
        }
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
    }

    private static String frames(final ThreadInfo info) {
        final StringBuilder text = new StringBuilder();
        for (final StackTraceElement frame : info.getStackTrace()) {
            final String type = frame.getClassName();
            text.append(text.isEmpty() ? "" : " < ").append(type.substring(type.lastIndexOf('.') + 1))
                    .append('.').append(frame.getMethodName());
        }
        return text.toString();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join();
    }

    synchronized void print() {
        System.out.printf(Locale.ROOT, "         the sampler woke over %d ms late %d times (%d ms in all, at most"
                + " %d ms); stalls (no prediction read sent in the last %d ms): %d%n", HICCUP_MILLIS, hiccups,
                hiccupMillis, longestHiccup, STALL_MILLIS, stalls.size());
        for (final long[] stall : stalls) {
            System.out.printf(Locale.ROOT, "           from %s, up to %d ms behind; the sampler late %d ms in all,"
                    + " GC paused %d ms%n", java.time.Instant.ofEpochMilli(stall[0]), stall[1], stall[2],
                    stall[3]);
        }
        if (!stalls.isEmpty()) {
            System.out.printf(Locale.ROOT, "         during them, %d samples of the threads, most frequent stacks:%n",
                    samples);
        }
        stacks.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(40)
                .forEach(entry -> System.out.printf(Locale.ROOT, "           %4d  %s%n", entry.getValue(),
                        entry.getKey()));
    }
}
