package io.digitstream.stream.service;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app's first contact with its cluster at start: while no broker answers it says so in one
 * line every half minute and keeps trying (a cluster starting beside the app, or a deploy where
 * the app comes first), or gives up after the time set. Credentials refused end it at once with the
 * broker's reason, since trying again cannot help.
 */
final class ClusterContact {

    private static final Logger log = LoggerFactory.getLogger(ClusterContact.class);
    private static final Duration ATTEMPT = Duration.ofSeconds(3);
    private static final Duration PAUSE = Duration.ofSeconds(2);
    private static final Duration REPORT_EVERY = Duration.ofSeconds(30);

    private ClusterContact() {
    }

    /**
     * Returns once a broker answers.
     *
     * @param maxWait how long to keep trying, or null for as long as it takes
     * @throws IllegalStateException when the time is up or the cluster refuses this app's credentials
     */
    static void await(final Map<String, Object> adminConfig, final Duration maxWait) {
        final Object servers = adminConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
        final long started = System.nanoTime();
        Long reported = null;
        while (true) {
            final String reason = attempt(adminConfig);
            if (reason == null) {
                if (reported != null) {
                    log.info("Kafka at {} answers now, after {} s", servers, seconds(started));
                }
                return;
            }
            final long waited = seconds(started);
            if (maxWait != null && System.nanoTime() - started >= maxWait.toNanos()) {
                throw new IllegalStateException("no Kafka broker answered at " + servers + " within " + waited
                        + " s (" + reason + "); check bootstrap.servers, that the cluster runs, and the security "
                        + "settings; startup.wait.ms sets how long to wait");
            }
            if (reported == null || System.nanoTime() - reported >= REPORT_EVERY.toNanos()) {
                log.warn("No Kafka broker answers at {} yet ({}; waited {} s); trying again{}. Check bootstrap.servers"
                        + " and that the cluster runs", servers, reason, waited,
                        maxWait == null ? " until one does (startup.wait.ms=N to give up after N ms)"
                                : " for up to " + maxWait.toSeconds() + " s");
                reported = System.nanoTime();
            }
            try {
                Thread.sleep(PAUSE.toMillis());
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Kafka at " + servers, e);
            }
        }
    }

    /** One try: null when a broker answered, else why not. */
    private static String attempt(final Map<String, Object> adminConfig) {
        final Map<String, Object> config = new HashMap<>(adminConfig);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ATTEMPT.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ATTEMPT.toMillis());
        try (Admin admin = Admin.create(config)) {
            admin.describeCluster().clusterId().get(ATTEMPT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
            return null;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Kafka", e);
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException) {
                throw new IllegalStateException(KafkaRefusal.describe(e).orElseThrow(), e.getCause());
            }
            return e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
        } catch (final java.util.concurrent.TimeoutException e) {
            return "no answer within " + ATTEMPT.toSeconds() + " s";
        } catch (final KafkaException e) {
            final String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            // No bootstrap address resolving may be a starting cluster's DNS; a malformed one is not.
            if (why != null && why.startsWith("No resolvable bootstrap urls")) {
                return why;
            }
            throw new IllegalStateException("cannot reach Kafka: " + why + " (check bootstrap.servers)", e);
        }
    }

    private static long seconds(final long since) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since);
    }
}
