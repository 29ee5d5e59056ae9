package io.digitstream.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import io.digitstream.stream.service.StreamService;

/**
 * Where the process's CPU time goes during the measured rounds, per group of threads: the
 * inference workers (forward passes), the stream threads (decode, batching, join, accuracy, and
 * the forward passes too without overlap), their producers' I/O, the load
 * generator, the checking consumer, the broker, and the JVM's own threads (JIT compiler, GC),
 * which only Linux's /proc names. Each round is taken from {@link #begin()} to {@link #end()},
 * before its load generator's threads exit.
 */
final class CpuShares {

    /** Linux reports per-thread CPU time in clock ticks of 10 ms. */
    private static final long NANOS_PER_TICK = 10_000_000L;
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final String REST = "broker and the rest";

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Map<Long, Long> before = new HashMap<>();
    private final Map<String, Long> groups = new TreeMap<>();
    private final StreamService service;
    private Map<String, JvmThread> jvmBefore = Map.of();
    private double blockedBefore;
    private double blocked;
    private double commitsBefore;
    private double commitsDone;
    private long processBefore;
    private long wallBefore;
    private long process;
    private long wall;
    private Map<String, Long> requestsBefore = Map.of();
    private final Map<String, Long> requests = new TreeMap<>();
    private Map<String, Long> topicsInBefore = Map.of();
    /** Records and bytes the broker took in, by topic: "records:topic" and "bytes:topic". */
    private final Map<String, Long> topicsIn = new TreeMap<>();
    /** The broker's and the app's other threads, by kind. */
    private final Map<String, Long> rest = new TreeMap<>();

    CpuShares(final StreamService service) {
        this.service = service;
    }

    void begin() {
        before.clear();
        blockedBefore = streamThreadsBlockedNanos();
        commitsBefore = commits();
        processBefore = os.getProcessCpuTime();
        wallBefore = System.nanoTime();
        jvmBefore = jvmThreads();
        requestsBefore = brokerRequests();
        topicsInBefore = brokerTopicsIn();
        for (final ThreadInfo info : threads.dumpAllThreads(false, false)) {
            before.put(info.getThreadId(), threads.getThreadCpuTime(info.getThreadId()));
        }
    }

    void end() {
        final long roundProcess = os.getProcessCpuTime() - processBefore;
        long accounted = 0;
        for (final ThreadInfo info : threads.dumpAllThreads(false, false)) {
            final long now = threads.getThreadCpuTime(info.getThreadId());
            if (now >= 0) {
                final long used = now - before.getOrDefault(info.getThreadId(), 0L);
                accounted += used;
                final String group = group(info.getThreadName());
                groups.merge(group, used, Long::sum);
                if (group.equals(REST)) {
                    // Numbers vary by thread and client; the kind of thread is what tells.
                    rest.merge(info.getThreadName().replaceAll("[-|].*", ""), used, Long::sum);
                }
            }
        }
        // Per thread, as JDK 17 starts and stops compiler threads: one that ended in the round
        // leaves its time to "other JVM threads".
        for (final Map.Entry<String, JvmThread> jvm : jvmThreads().entrySet()) {
            final JvmThread earlier = jvmBefore.get(jvm.getKey());
            final long used = jvm.getValue().nanos() - (earlier == null ? 0 : earlier.nanos());
            accounted += used;
            groups.merge(jvm.getValue().group(), used, Long::sum);
        }
        groups.merge("other JVM threads", roundProcess - accounted, Long::sum);
        process += roundProcess;
        wall += System.nanoTime() - wallBefore;
        blocked += streamThreadsBlockedNanos() - blockedBefore;
        commitsDone += commits() - commitsBefore;
        brokerRequests().forEach((type, count) -> requests.merge(type,
                count - requestsBefore.getOrDefault(type, 0L), Long::sum));
        brokerTopicsIn().forEach((topic, count) -> topicsIn.merge(topic,
                count - topicsInBefore.getOrDefault(topic, 0L), Long::sum));
    }

    /**
     * Requests the embedded broker has answered so far, by type, from its own metrics; empty when
     * the broker runs elsewhere. With its threads' CPU, this says what keeps the broker busy.
     */
    private static Map<String, Long> brokerRequests() {
        final Map<String, Long> counts = new HashMap<>();
        final javax.management.MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            for (final javax.management.ObjectName name : server.queryNames(new javax.management.ObjectName(
                    "kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
                counts.merge(name.getKeyProperty("request"),
                        ((Number) server.getAttribute(name, "Count")).longValue(), Long::sum);
            }
        } catch (final javax.management.JMException e) {
            return Map.of();
        }
        return counts;
    }

    /** Records and bytes the embedded broker has taken in so far, by topic; empty when it runs elsewhere. */
    private static Map<String, Long> brokerTopicsIn() {
        final Map<String, Long> counts = new HashMap<>();
        final javax.management.MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            for (final String kind : List.of("records", "bytes")) {
                final String metric = kind.equals("records") ? "MessagesInPerSec" : "BytesInPerSec";
                for (final javax.management.ObjectName name : server.queryNames(new javax.management.ObjectName(
                        "kafka.server:type=BrokerTopicMetrics,name=" + metric + ",topic=*"), null)) {
                    counts.put(kind + ":" + name.getKeyProperty("topic"),
                            ((Number) server.getAttribute(name, "Count")).longValue());
                }
            }
        } catch (final javax.management.JMException e) {
            return Map.of();
        }
        return counts;
    }

    /** Kafka Streams' count of the time its threads waited on Kafka: polls, flushes, commits. */
    private double streamThreadsBlockedNanos() {
        return blockedTimes().mapToDouble(Double::doubleValue).sum();
    }

    /** The stream threads' commits so far, from Kafka Streams' metrics. */
    double commits() {
        return service.streamsMetrics().entrySet().stream()
                .filter(metric -> metric.getKey().name().equals("commit-total")
                        && metric.getKey().group().equals("stream-thread-metrics"))
                .mapToDouble(metric -> ((Number) metric.getValue().metricValue()).doubleValue()).sum();
    }

    private java.util.stream.Stream<Double> blockedTimes() {
        return service.streamsMetrics().entrySet().stream()
                .filter(metric -> metric.getKey().name().equals("blocked-time-ns-total"))
                .map(metric -> ((Number) metric.getValue().metricValue()).doubleValue());
    }

    void print(final String during) {
        System.out.printf(Locale.ROOT, "CPU during %s: %.2f cores busy of %d%n", during,
                (double) process / wall, Runtime.getRuntime().availableProcessors());
        groups.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(entry -> System.out.printf(Locale.ROOT, "  %-34s %5.1f%%%n", entry.getKey(),
                        100.0 * entry.getValue() / process));
        System.out.println("  " + REST + ", by thread: " + rest.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                .map(entry -> String.format(Locale.ROOT, "%s %.1f%%", entry.getKey(),
                        100.0 * entry.getValue() / process))
                .collect(java.util.stream.Collectors.joining(", ")));
        System.out.printf(Locale.ROOT, "Stream threads waiting on Kafka (polls, flushes, commits): %.1f%% of"
                + " their time; %.0f commits per second%n", 100 * blocked / wall / Math.max(1, blockedTimes().count()),
                commitsDone / (wall / 1e9));
        if (requests.isEmpty()) {
            return; // the broker runs in another process
        }
        final double seconds = wall / 1e9;
        System.out.printf(Locale.ROOT, "Broker requests per second during them: %.0f%n",
                requests.values().stream().mapToLong(Long::longValue).sum() / seconds);
        requests.entrySet().stream().filter(entry -> entry.getValue() / seconds >= 1)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(entry -> System.out.printf(Locale.ROOT, "  %-34s %,7.0f%n", entry.getKey(),
                        entry.getValue() / seconds));
        System.out.println("Records (and KB) per second the broker took in, by topic:");
        topicsIn.entrySet().stream().filter(entry -> entry.getKey().startsWith("records:")
                && entry.getValue() / seconds >= 1)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(entry -> {
                    final String topic = entry.getKey().substring("records:".length());
                    System.out.printf(Locale.ROOT, "  %-50s %,7.0f (%,6.0f KB)%n", topic,
                            entry.getValue() / seconds, topicsIn.getOrDefault("bytes:" + topic, 0L) / 1024.0 / seconds);
                });
    }

    private static String group(final String thread) {
        if (thread.startsWith("inference-for-")) {
            return "inference workers (forward pass)";
        }
        if (thread.contains("StreamThread")) {
            return thread.startsWith("kafka-producer-network-thread") ? "stream threads' producer I/O"
                    : "stream threads";
        }
        if (thread.startsWith("bench-producer") || thread.startsWith("kafka-producer-network-thread")) {
            return "load generator";
        }
        if (thread.equals("main")) {
            return "checking consumer";
        }
        return REST;
    }

    private record JvmThread(String group, long nanos) {
    }

    /** The JIT compiler's and the GC's threads by task id, with their CPU so far, from /proc; empty elsewhere. */
    private static Map<String, JvmThread> jvmThreads() {
        final Map<String, JvmThread> used = new HashMap<>();
        if (!Files.isDirectory(TASKS)) {
            return used;
        }
        try (var tasks = Files.list(TASKS)) {
            tasks.forEach(task -> {
                try {
                    final String name = Files.readString(task.resolve("comm")).strip();
                    final String group = name.matches("C[12] CompilerThre.*") ? "JIT compiler"
                            : name.matches("(GC Thread|G1 |VM Thread|Parallel GC).*") ? "GC and safepoints"
                            : null;
                    if (group != null) {
                        final String stat = Files.readString(task.resolve("stat"));
                        // Fields after the parenthesised name: state is the 3rd, utime the 14th, stime the 15th.
                        final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                        used.put(task.getFileName().toString(), new JvmThread(group, ticks * NANOS_PER_TICK));
                    }
                } catch (final java.io.IOException | RuntimeException e) {
                    // A thread that ended between listing and reading has nothing left to count.
                }
            });
        } catch (final java.io.IOException e) {
            return Map.of();
        }
        return used;
    }
}
