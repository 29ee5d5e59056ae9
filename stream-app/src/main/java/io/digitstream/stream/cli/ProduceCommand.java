package io.digitstream.stream.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.schemas.Topics;

/** {@code stream-app produce}: sends image events to digits.images. */
@Command(name = "produce", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sends image events to digits.images, keyed by id: the MNIST test set, a directory of PNG",
            "files (a name like 7_mine.png carries label 7), or JSON lines on standard input (--from -)."})
final class ProduceCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions client;

    @Option(names = "--from", defaultValue = "mnist-test", paramLabel = "SOURCE",
            description = "mnist-test, a directory of .png files, or - for JSON lines on stdin (default: ${DEFAULT-VALUE}).")
    private String from;

    @Option(names = "--rate", defaultValue = "100", description = "Images per second, 0 for as fast as possible "
            + "(default: ${DEFAULT-VALUE}).")
    private double rate;

    @Option(names = "--labels", defaultValue = "inline", paramLabel = "MODE",
            description = "inline, late (on digits.labels after --label-delay), none, or mixed (default: ${DEFAULT-VALUE}).")
    private String labels;

    @Option(names = "--label-delay", defaultValue = "PT2S", paramLabel = "DURATION",
            description = "How long after its image a late label is sent, ISO-8601 (default: ${DEFAULT-VALUE}).")
    private Duration labelDelay;

    @Option(names = "--encoding", defaultValue = "base64", paramLabel = "FORM",
            description = "How MNIST pixels travel: base64 (pixelsBase64, about 1.1 KB a message) or pixels (the number"
                    + " array, about 3 KB) (default: ${DEFAULT-VALUE}).")
    private ImageSources.Encoding encoding;

    @Option(names = "--limit", defaultValue = "0", description = "Send at most this many images (default: all).")
    private int limit;

    @Option(names = "--id-prefix", defaultValue = "mnist", description = "Id prefix for MNIST images (default: ${DEFAULT-VALUE}).")
    private String idPrefix;

    @Mixin
    private MnistOptions mnist;

    private static final long TOPIC_CHECK_SECONDS = 60;

    @Override
    public Integer call() {
        if (rate < 0) {
            throw new IllegalArgumentException("--rate must be 0 or more, got " + rate);
        }
        final ImageSources.LabelMode mode = labelMode(labels);
        final List<Outgoing> images;
        if ("mnist-test".equals(from)) {
            images = ImageSources.mnist(mnist.testSet(), idPrefix,
                    mode, 1, encoding);
        } else if ("-".equals(from)) {
            images = ImageSources.jsonLines(System.in);
        } else {
            images = ImageSources.pngDirectory(Path.of(from), mode, 1);
        }
        final List<Outgoing> selected = limit > 0 && limit < images.size() ? images.subList(0, limit) : images;
        requireTopic(Topics.IMAGES);
        final var err = spec.commandLine().getErr();
        try (ImageProducer producer = new ImageProducer(client.bootstrapServers, client.settings(), labelDelay)) {
            final int sent = producer.send(selected, rate, () -> false, count -> {
                if (count % 1000 == 0) {
                    err.printf(Locale.ROOT, "sent %,d of %,d%n", count, selected.size());
                    err.flush();
                }
            });
            err.printf(Locale.ROOT, "sent %,d images to %s on %s%n", sent, Topics.IMAGES, client.bootstrapServers);
        }
        return 0;
    }

    /**
     * Says what to do when {@code topic} is not there: a producer would wait a minute for it, and a
     * broker that creates topics on first use would make it with the wrong partitions.
     */
    private void requireTopic(final String topic) {
        final Map<String, Object> config = new HashMap<>(client.settings());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, client.bootstrapServers);
        try (Admin admin = Admin.create(config)) {
            admin.describeTopics(List.of(topic)).allTopicNames().get(TOPIC_CHECK_SECONDS, TimeUnit.SECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while looking for " + topic, e);
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException(topic + " does not exist on " + client.bootstrapServers
                        + ": start the stream app once (it creates its topics), or create them as"
                        + " docs/operations.md says", e);
            }
            if (e.getCause() instanceof TopicAuthorizationException) {
                // Named, as a producer's refusal is.
                throw new TopicAuthorizationException(Set.of(topic));
            }
            throw e.getCause() instanceof KafkaException kafka ? kafka : new KafkaException(e.getCause());
        } catch (final TimeoutException e) {
            throw new IllegalStateException("no Kafka broker answered at " + client.bootstrapServers + " within "
                    + TOPIC_CHECK_SECONDS + " s; check --bootstrap-servers and that the cluster runs", e);
        }
    }

    static ImageSources.LabelMode labelMode(final String text) {
        try {
            return ImageSources.LabelMode.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException("--labels must be inline, late, none or mixed, got '" + text + "'", e);
        }
    }
}
