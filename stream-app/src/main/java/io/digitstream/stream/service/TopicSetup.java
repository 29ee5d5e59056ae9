package io.digitstream.stream.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.releases.ReleaseLog;
import io.digitstream.releases.Replication;
import io.digitstream.schemas.Topics;

/**
 * Creates the app's topics when they are missing, replicated as asked for on this cluster;
 * existing topics are left as they are.
 */
public final class TopicSetup {

    private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);
    private static final long TIMEOUT_SECONDS = 60;

    private TopicSetup() {
    }

    /**
     * @return the replication made concrete for this cluster, for the internal topics
     * @throws IllegalStateException when the cluster cannot hold the replication asked for, saying
     *                               which setting to change
     */
    public static Replication ensureTopics(final Map<String, Object> adminConfig, final int partitions,
            final Replication requested) {
        try (Admin admin = Admin.create(adminConfig)) {
            final Replication replication = requested.on(admin);
            final Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            final List<NewTopic> missing = new ArrayList<>();
            for (final String topic : Topics.ALL) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, partitions, replication.factor())
                            .configs(replication.topicConfigs()));
                }
            }
            ReleaseLog.ensureTopic(adminConfig, replication);
            if (missing.isEmpty()) {
                return replication;
            }
            try {
                admin.createTopics(missing).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (final ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            log.info("Created topics {} with {} partitions, replication factor {}, min.insync.replicas {}",
                    missing.stream().map(NewTopic::name).toList(), partitions, replication.factor(),
                    replication.minInSync());
            return replication;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topics on " + adminConfig.get("bootstrap.servers") + ": "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
    }
}
