package io.digitstream.stream.service;

import static io.digitstream.stream.TestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestClients;

/** A consumer group that stops committing while records wait, on a real broker, as the watch sees it. */
@ExtendWith(KafkaClusterExtension.class)
class ProgressWatchTest {

    private static final Duration STUCK_AFTER = Duration.ofSeconds(1);

    @Test
    void reportsAPartitionWhoseRecordsWaitWithNothingCommittedAndClearsItOnProgress() throws Exception {
        final String topic = "progress-" + UUID.randomUUID();
        final String group = "progress-group-" + UUID.randomUUID();
        final TopicPartition partition = new TopicPartition(topic, 0);
        final Map<String, Object> adminConfig = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                KafkaClusterExtension.bootstrapServers());
        try (Admin admin = Admin.create(adminConfig);
                KafkaProducer<String, String> producer = producer();
                KafkaConsumer<String, String> member = member(group)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
            }
            producer.flush();
            member.assign(List.of(partition));
            member.commitSync(Map.of(partition, new OffsetAndMetadata(3)));

            try (ProgressWatch watch = new ProgressWatch(Admin.create(adminConfig), group, () -> Set.of(partition),
                    STUCK_AFTER)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> !watch.stuck().isEmpty());
                assertThat(watch.stuck()).singleElement().satisfies(stuck -> {
                    assertThat(stuck.partition()).isEqualTo(partition.toString());
                    assertThat(stuck.committedOffset()).isEqualTo(3);
                    assertThat(stuck.endOffset()).isEqualTo(10);
                });

                assertThat(watch.backlog().records()).isEqualTo(7);
                // Stuck: no reading rate, so behind by at least its size in seconds.
                assertThat(watch.backlog().secondsBehind()).isGreaterThanOrEqualTo(7);

                member.commitSync(Map.of(partition, new OffsetAndMetadata(10)));
                await().atMost(Duration.ofSeconds(30)).until(() -> watch.stuck().isEmpty());
                await().atMost(Duration.ofSeconds(30)).until(() -> watch.backlog().records() == 0);
                assertThat(watch.backlog().secondsBehind()).isZero();
                // Caught up: an idle partition is not stuck, however long nothing is committed.
                Thread.sleep(STUCK_AFTER.multipliedBy(3).toMillis());
                assertThat(watch.stuck()).isEmpty();
            }
        }
    }

    private static KafkaConsumer<String, String> member(final String group) {
        final var props = TestClients.consumerProps();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
