package io.digitstream.stream.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;

/** {@code stream-app consume}: prints predictions or accuracy as a table or JSON lines. */
@Command(name = "consume", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints digits.predictions or digits.accuracy as a readable table or as JSON lines.")
final class ConsumeCommand implements Callable<Integer> {

    private static final Duration POLL = Duration.ofMillis(500);
    private static final JsonSerde<Prediction> PREDICTIONS = JsonSerde.serdeFor(Prediction.class);
    private static final JsonSerde<ClassAccuracy> ACCURACY = JsonSerde.serdeFor(ClassAccuracy.class);

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions client;

    @Option(names = "--topic", defaultValue = "predictions", paramLabel = "WHAT",
            description = "predictions or accuracy (default: ${DEFAULT-VALUE}).")
    private String topic;

    @Option(names = "--format", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    private String format;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new records until Ctrl-C.")
    private boolean follow;

    @Option(names = "--from-beginning", description = "Start at the oldest record (default: only records that arrive from now on).")
    private boolean fromBeginning;

    @Option(names = "--limit", defaultValue = "0", description = "Stop after this many records (default: no limit).")
    private int limit;


    @Override
    public Integer call() {
        final String name = switch (topic) {
            case "predictions" -> Topics.PREDICTIONS;
            case "accuracy" -> Topics.ACCURACY;
            default -> throw new IllegalArgumentException("--topic must be predictions or accuracy, got '" + topic + "'");
        };
        if (!"table".equals(format) && !"json".equals(format)) {
            throw new IllegalArgumentException("--format must be table or json, got '" + format + "'");
        }
        final Properties props = new Properties();
        props.putAll(client.settings());
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, client.bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "digits-consume-" + UUID.randomUUID());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        final PrintWriter out = spec.commandLine().getOut();
        int printed = 0;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(name));
            if ("table".equals(format)) {
                out.println(Topics.PREDICTIONS.equals(name)
                        ? String.format(Locale.ROOT, "%-24s %9s %10s %5s %7s %8s  %s", "id", "predicted",
                                "confidence", "label", "correct", "latency", "model")
                        : String.format(Locale.ROOT, "%-5s %-19s %6s %7s %8s  %s", "class", "window start (UTC)",
                                "total", "correct", "accuracy", "model"));
            }
            Map<TopicPartition, Long> end = null;
            while (true) {
                for (final ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    final String line;
                    try {
                        line = "json".equals(format) ? new String(record.value(), StandardCharsets.UTF_8)
                                : row(name, record.value());
                    } catch (final RuntimeException e) {
                        // Any client can write to the topic; what is not the app's is skipped, not fatal.
                        spec.commandLine().getErr().printf("consume: skipped %s-%d@%d, not a record of the app: %s%n",
                                record.topic(), record.partition(), record.offset(), e.getMessage());
                        continue;
                    }
                    out.println(line);
                    if (limit > 0 && ++printed >= limit) {
                        out.flush();
                        return 0;
                    }
                }
                out.flush();
                if (!follow && !consumer.assignment().isEmpty()) {
                    if (end == null) {
                        end = consumer.endOffsets(consumer.assignment());
                    }
                    final Map<TopicPartition, Long> target = end;
                    if (target.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                        return 0;
                    }
                }
            }
        }
    }

    private static String row(final String topic, final byte[] value) {
        if (Topics.PREDICTIONS.equals(topic)) {
            final Prediction p = PREDICTIONS.deserialize(topic, value);
            return String.format(Locale.ROOT, "%-24s %9d %10.4f %5s %7s %6d ms  %s", p.id(), p.predicted(),
                    p.confidence(), p.label() == null ? "-" : p.label(), p.correct() == null ? "-" : p.correct(),
                    p.processingTime() - p.eventTime(), p.modelVersion());
        }
        final ClassAccuracy a = ACCURACY.deserialize(topic, value);
        return String.format(Locale.ROOT, "%-5s %-19s %6d %7d %8.4f  %s", a.trueClass(),
                Instant.ofEpochMilli(a.windowStart()).toString().substring(0, 19), a.total(), a.correct(),
                a.accuracy(), a.modelVersion());
    }
}
