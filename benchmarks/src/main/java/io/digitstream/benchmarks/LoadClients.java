package io.digitstream.benchmarks;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.digitstream.schemas.Topics;
import io.digitstream.stream.cli.ImageProducer;

/**
 * The load generator's producer and the checking consumer, made once for the whole benchmark:
 * made per round, their connections, the consumer's group and their setup code were work for
 * the broker and the JIT compiler in every measured round, work a steady stream does not bring.
 * The consumer reads every partition of the predictions topic by assignment, without a group.
 */
final class LoadClients implements AutoCloseable {

    final KafkaConsumer<String, byte[]> consumer;
    final ImageProducer producer;

    LoadClients(final String bootstrap) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.assign(consumer.partitionsFor(Topics.PREDICTIONS).stream()
                .map(partition -> new TopicPartition(partition.topic(), partition.partition())).toList());
        this.producer = new ImageProducer(bootstrap, Map.of("client.id", "bench-load"), Duration.ZERO);
    }

    @Override
    public void close() {
        producer.close();
        consumer.close();
    }
}
