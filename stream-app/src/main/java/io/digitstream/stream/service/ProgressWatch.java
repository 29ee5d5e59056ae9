package io.digitstream.stream.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the input partitions an instance owns for progress, as its consumer group's committed
 * offsets show it: a partition is stuck when records wait on it (more than a transaction marker, or
 * new ones arrived) and nothing has been committed for it for {@code stuckAfter}. A running stream
 * thread that never gets a partition past one record is invisible to Kafka Streams' own state; this
 * is what /health reports it by. Its view of each owned partition (committed offset, end, lag) is
 * what /api/summary and /metrics show of the instance.
 */
public final class ProgressWatch implements AutoCloseable {

    /** A partition making no progress, as /health reports it. */
    public record Stuck(String partition, long committedOffset, long endOffset, long stuckForSeconds) {
    }

    /** An input partition this instance owns: the group's committed offset on it, its end, and the lag. */
    public record PartitionProgress(String partition, long committedOffset, long endOffset, long lag) {
    }

    private record Progress(long committed, long endWhenCommitted, long since) {
    }

    /**
     * How far behind its input partitions (images and labels) this instance reads at the last check.
     *
     * @param records          records on them not yet committed
     * @param recordsPerSecond how fast its commits advanced over them since the check before
     * @param secondsBehind    the backlog at that rate (taken as at least one record a second: a backlog
     *                         that does not move is behind by its size in seconds)
     */
    public record Backlog(long records, double recordsPerSecond, double secondsBehind) {
    }

    private static final Logger log = LoggerFactory.getLogger(ProgressWatch.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(10);

    private final Admin admin;
    private final String groupId;
    private final Supplier<Set<TopicPartition>> owned;
    private final Duration stuckAfter;
    private final ScheduledExecutorService timer;
    private final Map<TopicPartition, Progress> progress = new HashMap<>();
    private volatile List<Stuck> stuck = List.of();
    private volatile List<PartitionProgress> partitions = List.of();
    /** Null until the first check has seen the owned partitions. */
    private volatile Backlog backlog;
    /** Committed offsets at the last check, for the reading rate. */
    private Map<TopicPartition, Long> lastCommitted = Map.of();
    private long lastCheckAt;
    private volatile Consumer<List<PartitionProgress>> onCheck = seen -> {
    };

    /**
     * @param admin      an admin client on the app's cluster; closed with this watch
     * @param groupId    the app's consumer group (its application.id)
     * @param owned      the input partitions this instance's stream threads own now
     * @param stuckAfter how long records may wait with nothing committed
     */
    public ProgressWatch(final Admin admin, final String groupId, final Supplier<Set<TopicPartition>> owned,
            final Duration stuckAfter) {
        this.admin = admin;
        this.groupId = groupId;
        this.owned = owned;
        this.stuckAfter = stuckAfter;
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            final Thread thread = new Thread(runnable, "progress-watch");
            thread.setDaemon(true);
            return thread;
        });
        final long period = Math.max(100, Math.min(stuckAfter.toMillis() / 4, 5_000));
        timer.scheduleWithFixedDelay(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    /** The input partitions this instance owned at the last check, in order, with their lag. */
    public List<PartitionProgress> partitions() {
        return partitions;
    }

    /** Tells {@code listener} the owned partitions after each check (on the watch's thread). */
    public void onCheck(final Consumer<List<PartitionProgress>> listener) {
        this.onCheck = listener;
    }

    /** How far behind its input this instance was at the last check, or null before the first. */
    public Backlog backlog() {
        return backlog;
    }

    /** The partitions found stuck at the last check. */
    public List<Stuck> stuck() {
        return stuck;
    }

    private void check() {
        try {
            final Set<TopicPartition> partitions = owned.get();
            progress.keySet().retainAll(partitions);
            if (partitions.isEmpty()) {
                stuck = List.of();
                this.partitions = List.of();
                backlog = new Backlog(0, 0, 0);
                onCheck.accept(this.partitions);
                return;
            }
            final Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            final Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(
                    partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                    .all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            stuck = update(partitions, committed, ends, System.currentTimeMillis());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final ExecutionException | TimeoutException | RuntimeException e) {
            // The cluster not answering is not a stuck partition; Kafka Streams' state says that.
            log.debug("Progress check failed: {}", e.toString());
        }
    }

    private List<Stuck> update(final Collection<TopicPartition> partitions,
            final Map<TopicPartition, OffsetAndMetadata> committed,
            final Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends, final long now) {
        final List<Stuck> found = new ArrayList<>();
        final List<PartitionProgress> seen = new ArrayList<>();
        for (final TopicPartition partition : partitions) {
            final OffsetAndMetadata offset = committed.get(partition);
            final long position = offset == null ? 0 : offset.offset();
            final long end = ends.get(partition).offset();
            seen.add(new PartitionProgress(partition.toString(), position, end, Math.max(0, end - position)));
            final Progress last = progress.get(partition);
            if (last == null || last.committed() != position) {
                progress.put(partition, new Progress(position, end, now));
                continue;
            }
            // A transactional producer's commit marker takes an offset no record holds.
            final boolean waiting = end - position > 1 || end > last.endWhenCommitted();
            if (waiting && now - last.since() >= stuckAfter.toMillis()) {
                found.add(new Stuck(partition.toString(), position, end, (now - last.since()) / 1000));
            }
        }
        seen.sort(Comparator.comparing(PartitionProgress::partition));
        backlog = backlog(partitions, committed, ends, now);
        this.partitions = List.copyOf(seen);
        onCheck.accept(this.partitions);
        if (!found.isEmpty()) {
            log.warn("No progress for {}: records wait and nothing was committed for them", found);
        }
        return List.copyOf(found);
    }

    private Backlog backlog(final Collection<TopicPartition> partitions,
            final Map<TopicPartition, OffsetAndMetadata> committed,
            final Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends, final long now) {
        long records = 0;
        long advanced = 0;
        final Map<TopicPartition, Long> positions = new HashMap<>();
        for (final TopicPartition partition : partitions) {
            final OffsetAndMetadata offset = committed.get(partition);
            final long position = offset == null ? 0 : offset.offset();
            records += Math.max(0, ends.get(partition).offset() - position);
            positions.put(partition, position);
            final Long before = lastCommitted.get(partition);
            if (before != null) {
                advanced += Math.max(0, position - before);
            }
        }
        final double seconds = (now - lastCheckAt) / 1000.0;
        final double rate = lastCheckAt == 0 || seconds <= 0 ? 0 : advanced / seconds;
        lastCommitted = positions;
        lastCheckAt = now;
        return new Backlog(records, rate, records / Math.max(1, rate));
    }

    @Override
    public void close() {
        timer.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}
