package io.digitstream.releases;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.TopicConfig;

/**
 * How the topics this project creates are replicated: a replication factor and the replicas that
 * must have a write before it counts ({@code min.insync.replicas}). Either may be {@link #FOLLOW}:
 * then the cluster decides, three replicas (or as many as there are brokers) and two in sync of
 * three, so one broker may die without losing a write or stopping the app.
 *
 * @param factor    replicas of each partition, or {@link #FOLLOW}
 * @param minInSync replicas a write needs, or {@link #FOLLOW}
 */
public record Replication(short factor, int minInSync) {

    /** Let the cluster's size decide. */
    public static final int FOLLOW = 0;
    /** The replication factor when following the cluster, on enough brokers. */
    private static final int DEFAULT_FACTOR = 3;
    private static final long TIMEOUT_SECONDS = 60;

    public static final Replication FOLLOW_CLUSTER = new Replication((short) FOLLOW, FOLLOW);

    public Replication {
        if (factor < 0 || minInSync < 0) {
            throw new IllegalArgumentException("replication factor and min.insync.replicas are positive, or "
                    + FOLLOW + " to follow the cluster; got " + factor + " and " + minInSync);
        }
        if (factor > 0 && minInSync > factor) {
            throw new IllegalArgumentException("min.insync.replicas " + minInSync + " is more than the replication "
                    + "factor " + factor + ": no write could ever succeed");
        }
    }

    /**
     * This replication made concrete for the cluster {@code admin} talks to.
     *
     * @throws IllegalStateException naming the setting to change when the cluster has fewer brokers
     *                               than the replication factor asks for
     */
    public Replication on(final Admin admin) {
        final int brokers;
        try {
            brokers = admin.describeCluster().nodes().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).size();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the cluster its size", e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot ask the cluster its size: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
        final short replicas = factor == FOLLOW ? (short) Math.min(DEFAULT_FACTOR, brokers) : factor;
        if (replicas > brokers) {
            throw new IllegalStateException("topic.replication.factor is " + replicas + " but the cluster has "
                    + brokers + (brokers == 1 ? " broker" : " brokers") + ": set topic.replication.factor to "
                    + brokers + " or fewer (or leave it unset to follow the cluster), or start more brokers");
        }
        final int inSync = minInSync == FOLLOW ? Math.max(1, replicas / 2 + (replicas >= DEFAULT_FACTOR ? 1 : 0))
                : minInSync;
        if (inSync > replicas) {
            throw new IllegalStateException("topic.min.insync.replicas is " + inSync + " but topics get " + replicas
                    + " replicas: no write could succeed; set it to " + replicas + " or fewer");
        }
        return new Replication(replicas, inSync);
    }

    /** The topic settings that go with it, once made concrete. */
    public Map<String, String> topicConfigs() {
        return minInSync == FOLLOW ? Map.of()
                : Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInSync));
    }
}
