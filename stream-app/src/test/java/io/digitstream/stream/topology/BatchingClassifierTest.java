package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedPunctuator;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.DecodedImage;
import io.digitstream.stream.TestFixtures;

class BatchingClassifierTest {

    private static final int BATCH = 4;
    private static final Duration WAIT = Duration.ofMillis(20);
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);
    /** Enough blank images to keep the inference worker busy far longer than a batch takes to feed. */
    private static final int BLOCKING_IMAGES = 1_000;

    private final MockProcessorContext<String, Classified> context = new MockProcessorContext<>();
    private ClassifierPool pool;
    private BatchingClassifier classifier;
    private int fed;

    @BeforeEach
    void initProcessor() {
        bufferOf(context);
        pool = new ClassifierPool(TestFixtures.classifier());
        classifier = newClassifier();
        classifier.init(context);
    }

    private BatchingClassifier newClassifier() {
        final TopologySettings settings = new TopologySettings(BATCH, WAIT, Duration.ofMinutes(1), Duration.ofMinutes(1),
                Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofMillis(500), 20_000, true, COMMIT_INTERVAL,
                TopologySettings.DEFAULT_MAX_CLOCK_SKEW, TopologySettings.DEFAULT_MAX_PENDING_JOINS);
        return new BatchingClassifier(pool, settings, new StreamMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)),
                ClassifiedImages.NONE);
    }

    /** An inference buffer store, as the topology has it but without a changelog, added to {@code processorContext}. */
    private static KeyValueStore<Bytes, DecodedImage> bufferOf(final MockProcessorContext<String, Classified> processorContext) {
        final KeyValueStore<Bytes, DecodedImage> buffer = Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(BatchingClassifier.BUFFER_STORE), Serdes.Bytes(),
                new DecodedImageSerde()).withLoggingDisabled().build();
        buffer.init(processorContext.getStateStoreContext(), buffer);
        processorContext.addStateStore(buffer);
        processorContext.setCurrentSystemTimeMs(1_000_000);
        return buffer;
    }

    @Test
    void restoresBufferedImagesInArrivalOrderAndClassifiesThemBeforeNewOnes() {
        final MockProcessorContext<String, Classified> restarted = new MockProcessorContext<>();
        final KeyValueStore<Bytes, DecodedImage> buffer = bufferOf(restarted);
        // Left buffered by a task that stopped, put in another order than they arrived.
        buffer.put(SequenceKeys.key(7), blank("seven"));
        buffer.put(SequenceKeys.key(5), blank("five"));
        buffer.put(SequenceKeys.key(3), blank("three"));
        final BatchingClassifier again = newClassifier();
        again.init(restarted);
        again.process(new Record<>("next", blank("next"), 0L));

        final CapturedPunctuator check = restarted.scheduledPunctuators().stream()
                .filter(p -> p.getInterval().equals(WAIT.dividedBy(4)) && !p.cancelled()).findFirst().orElseThrow();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            check.getPunctuator().punctuate(restarted.currentSystemTimeMs());
            return restarted.forwarded().size() == 4;
        });
        again.close();

        final List<String> ids = restarted.forwarded().stream().<String>map(forwarded -> forwarded.record().key())
                .toList();
        assertThat(ids).containsExactly("three", "five", "seven", "next");
        try (var left = buffer.all()) {
            assertThat(left.hasNext()).as("every forwarded image left the buffer").isFalse();
        }
    }

    private static DecodedImage blank(final String id) {
        return new DecodedImage(id, new byte[DigitNetwork.PIXELS], null, 0L);
    }

    @AfterEach
    void close() {
        classifier.close();
        pool.close();
    }

    @Test
    void leavesCommitsToKafkaStreamsWhileItsWorkerHasABacklogOfOldImages() {
        // Each batch queues behind a long forward pass of the worker's, as under a backlog: the
        // worker is still busy at every hand-over after the first. The images were sent a while ago.
        // Nothing slow (a first assertion loads its library) may come between the hand-overs: the
        // worker would catch up.
        for (int batch = 0; batch < 3; batch++) {
            occupyWorker();
            feed(BATCH, aWhileAgo());
        }
        final boolean askedBeforeTheBacklogLasted = context.committed();
        context.resetCommit();
        context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + 2 * BatchingClassifier.BACKLOG_AFTER.toMillis());
        occupyWorker();
        feed(BATCH, aWhileAgo());
        forwardAllFed();
        assertThat(askedBeforeTheBacklogLasted).as("asked for a commit before the backlog lasted").isTrue();
        assertThat(context.committed()).as("asked for a commit with a backlog").isFalse();

        // Light load: a batch the wait sends off to an idle worker.
        feed(1, aWhileAgo());
        punctuator(WAIT).getPunctuator().punctuate(context.currentSystemTimeMs());
        assertThat(context.forwarded()).hasSize(fed);
        assertThat(context.committed()).as("asked for a commit under light load").isTrue();

        context.resetCommit();
        feed(1, aWhileAgo());
        punctuator(WAIT).getPunctuator().punctuate(context.currentSystemTimeMs());
        assertThat(context.forwarded()).hasSize(fed);
        assertThat(context.committed()).as("asked again within the commit interval").isFalse();
    }

    @Test
    void leavesCommitsToKafkaStreamsWhenItsImagesWaitedSecondsBeforeItReadThem() {
        // An idle worker, but images that waited long in Kafka: a commit after each batch would let
        // each transaction carry a few of them when commits are slow.
        feed(1, System.currentTimeMillis() - 2 * BatchingClassifier.FAR_BEHIND_AFTER.toMillis());
        punctuator(WAIT).getPunctuator().punctuate(context.currentSystemTimeMs());
        assertThat(context.forwarded()).hasSize(fed);
        assertThat(context.committed()).as("asked for a commit though far behind").isFalse();
    }

    /** Long enough ago to count towards a backlog, not so long ago as to be far behind. */
    private static long aWhileAgo() {
        return System.currentTimeMillis() - 2 * BatchingClassifier.BACKLOG_AFTER.toMillis();
    }

    @Test
    void asksForCommitsWhileItsWorkerIsBusyWithFreshImages() {
        // Stamped a minute ahead, so they stay fresh however slowly this machine classifies.
        final long sentAtMs = System.currentTimeMillis() + Duration.ofMinutes(1).toMillis();
        for (int batch = 0; batch < 3; batch++) {
            occupyWorker();
            feed(BATCH, sentAtMs);
        }
        context.resetCommit();
        context.setCurrentSystemTimeMs(context.currentSystemTimeMs() + 2 * BatchingClassifier.BACKLOG_AFTER.toMillis());
        occupyWorker();
        feed(BATCH, sentAtMs);
        forwardAllFed();
        assertThat(context.committed()).as("asked for a commit").isTrue();
    }

    private void forwardAllFed() {
        final CapturedPunctuator check = punctuator(WAIT.dividedBy(4));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            check.getPunctuator().punctuate(context.currentSystemTimeMs());
            return context.forwarded().size() == fed;
        });
    }

    /** Queues a long forward pass on the processor's inference worker (this thread's). */
    private void occupyWorker() {
        final List<byte[]> blank = new ArrayList<>();
        for (int i = 0; i < BLOCKING_IMAGES; i++) {
            blank.add(new byte[DigitNetwork.PIXELS]);
        }
        pool.forCurrentThread().classify(blank);
    }

    /** Feeds blank images sent at {@code sentAtMs}. */
    private void feed(final int images, final long sentAtMs) {
        for (int i = 0; i < images; i++) {
            final String id = "img-" + fed++;
            classifier.process(new Record<>(id, new DecodedImage(id, new byte[DigitNetwork.PIXELS], null, sentAtMs),
                    sentAtMs));
        }
    }

    private CapturedPunctuator punctuator(final Duration interval) {
        return context.scheduledPunctuators().stream()
                .filter(p -> p.getInterval().equals(interval) && p.getType() == PunctuationType.WALL_CLOCK_TIME
                        && !p.cancelled())
                .findFirst().orElseThrow();
    }
}
