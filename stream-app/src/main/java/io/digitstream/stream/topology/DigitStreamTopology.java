package io.digitstream.stream.topology;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.ClassAccuracy;
import io.digitstream.schemas.DecodedImage;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.DigitLabel;
import io.digitstream.schemas.ImageDecoder;
import io.digitstream.schemas.InvalidMessageException;
import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Prediction;
import io.digitstream.schemas.Topics;

/**
 * The whole streaming pipeline, in one place:
 *
 * <pre>
 * digits.images -> decode-image -> classify (micro-batches) -> digits.predictions (the image's partition)
 *                                            |                 (shadow model's) -> digits.predictions.shadow
 *                                            +- label inline ---------------------------+
 *                                            +- unlabeled -+                            |
 * digits.labels -> check-label --------------------------> + -> by image id -> label-join + -> accuracy-partials
 *                     -> accuracy windows (per true class and model version) -> digits.accuracy
 * </pre>
 *
 * Anything that cannot be read or decoded goes to digits.dlq through {@link DeadLetters}.
 */
public final class DigitStreamTopology {

    public static final String DECODE_STAGE = "decode-image";
    public static final String CLASSIFY_STAGE = "classify";
    public static final String LABEL_CHECK_STAGE = "check-label";
    public static final String LABEL_JOIN_STAGE = "label-join";
    /** A label is an id and a digit: a few hundred bytes at most. */
    static final int MAX_LABEL_BYTES = 4096;
    public static final String ACCURACY_STORE = "accuracy-by-class";
    /** The repartition topic of the label join: {@code <application.id>-label-join-by-id-repartition}. */
    public static final String JOIN_BY_ID = "label-join-by-id";

    private static final Serde<String> KEYS = Serdes.String();

    private DigitStreamTopology() {
    }

    /**
     * Error handling for Kafka Streams: the built-in DLQ topic, {@link DeadLetters} as the
     * deserialization, processing and production handler, and stream time bounded by the clock.
     */
    public static Map<String, Object> errorHandling(final DeadLetters.ReasonCounter deadLetters) {
        final Map<String, Object> props = new HashMap<>();
        props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, Topics.DEAD_LETTERS);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class.getName());
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class.getName());
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class.getName());
        props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, ArrivalTimestamps.class.getName());
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        // Kafka Streams 4.3 checks this again on its main consumer's copy of the config (for the
        // partition assignor), which leaves it out, and warned at every start that it was off.
        props.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG),
                true);
        props.put(DeadLetters.COUNTER_CONFIG, deadLetters);
        return props;
    }

    public static Topology buildTopology(final StreamsBuilder builder, final TopologySettings settings,
            final ClassifierPool classifiers, final StreamMetrics metrics, final ClassifiedImages classified) {
        final KStream<String, DecodedImage> images = builder
                .stream(Topics.IMAGES, Consumed.with(KEYS,
                        JsonSerde.serdeFor(DigitImage.class).withMaxBytes(settings.maxImageBytes())).withName("images"))
                .process(() -> new DecodeStage(settings.maxClockSkew()), Named.as(DECODE_STAGE));

        // Cached: an image put and deleted between two commits, the usual case, never reaches the
        // changelog (see UnloggedDeletes). Keys from SequenceKeys.
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(BatchingClassifier.BUFFER_STORE), Serdes.Bytes(),
                new DecodedImageSerde()).withLoggingEnabled(Map.of()).withCachingEnabled());
        final KStream<String, Classified> predictions = images.process(
                () -> new BatchingClassifier(classifiers, settings, metrics, classified), Named.as(CLASSIFY_STAGE),
                BatchingClassifier.BUFFER_STORE);
        // Each prediction goes to the partition number its image came from: a reader of one partition
        // sees one task's predictions in the order it made them, whichever partitioner put the images.
        predictions.to(Topics.PREDICTIONS, Produced.with(KEYS, written(Classified::live))
                .withStreamPartitioner(new ImagePartition()).withName("predictions-out"));
        predictions.filter((id, both) -> both.shadow() != null, Named.as("shadowed"))
                .to(Topics.PREDICTIONS_SHADOW, Produced.with(KEYS, written(Classified::shadow))
                        .withStreamPartitioner(new ImagePartition()).withName("shadow-predictions-out"));

        builder.addStateStore(logged(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(LabelJoiner.AWAITING_LABEL_STORE), KEYS,
                JsonSerde.serdeFor(PendingPrediction.class))));
        builder.addStateStore(logged(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(LabelJoiner.AWAITING_PREDICTION_STORE), KEYS,
                JsonSerde.serdeFor(PendingLabel.class))));
        final KStream<String, JoinInput> labels = builder
                .stream(Topics.LABELS, Consumed.with(KEYS, JsonSerde.serdeFor(DigitLabel.class)
                        .withMaxBytes(MAX_LABEL_BYTES)).withName("labels"))
                .process(LabelCheck::new, Named.as(LABEL_CHECK_STAGE));
        // An image that carried its label is counted where it was classified. The predictions of the
        // others, and the late labels, go through the app's own topic, partitioned by image id: an
        // image and its label meet in one task whatever partitioner, client library or partition each
        // producer chose.
        final KStream<String, LabeledPrediction> labeledInline = predictions
                .filter((id, both) -> both.live().label() != null, Named.as("labeled-inline"))
                .flatMapValues(DigitStreamTopology::labeled, Named.as("inline-labels"));
        final KStream<String, LabeledPrediction> joined = predictions
                .filter((id, both) -> both.live().label() == null, Named.as("unlabeled"))
                .mapValues(JoinInput::of, Named.as("predictions-to-join"))
                .merge(labels, Named.as("predictions-and-labels"))
                .repartition(Repartitioned.<String, JoinInput>as(JOIN_BY_ID).withKeySerde(KEYS)
                        .withValueSerde(JsonSerde.serdeFor(JoinInput.class)))
                .process(() -> new LabelJoiner(settings.labelJoinWindow(), settings.maxPendingJoins(), metrics),
                        Named.as(LABEL_JOIN_STAGE), LabelJoiner.AWAITING_LABEL_STORE,
                        LabelJoiner.AWAITING_PREDICTION_STORE);
        final KStream<String, LabeledPrediction> labeled = labeledInline.merge(joined, Named.as("labeled"));

        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(AccuracyCombiner.PARTIALS_STORE), KEYS,
                AccuracyTally.serde()).withLoggingEnabled(Map.of()).withCachingEnabled());
        labeled
                .process(() -> new AccuracyCombiner(settings.accuracyAdvance(), settings.accuracyFlush(),
                        settings.accuracyGrace()),
                        Named.as("accuracy-partials"), AccuracyCombiner.PARTIALS_STORE)
                .groupByKey(Grouped.with(ACCURACY_STORE, KEYS, AccuracyTally.serde()))
                .windowedBy(TimeWindows.ofSizeAndGrace(settings.accuracyWindow(), settings.accuracyGrace())
                        .advanceBy(settings.accuracyAdvance()))
                .aggregate(AccuracyTally::new, (group, partial, tally) -> tally.merge(partial),
                        Named.as("accuracy"),
                        Materialized.<String, AccuracyTally, WindowStore<Bytes, byte[]>>as(ACCURACY_STORE)
                                .withKeySerde(KEYS).withValueSerde(AccuracyTally.serde()))
                .toStream(Named.as("accuracy-updates"))
                .map((window, tally) -> {
                    final String trueClass = AccuracyCombiner.trueClass(window.key());
                    return KeyValue.pair(trueClass, tally.toRecord(trueClass, window.window()));
                }, Named.as("accuracy-rows"))
                .peek((trueClass, row) -> metrics.accuracy(row), Named.as("accuracy-metrics"))
                .to(Topics.ACCURACY, Produced.with(KEYS, JsonSerde.serdeFor(ClassAccuracy.class))
                        .withName("accuracy-out"));
        return builder.build();
    }

    /** The labeled predictions of an image that carried its label: the live model's, and the shadow's. */
    private static List<LabeledPrediction> labeled(final Classified both) {
        final Prediction live = both.live();
        final LabeledPrediction first = new LabeledPrediction(live.id(), live.label(), live.predicted(),
                live.modelVersion());
        final Prediction shadow = both.shadow();
        return shadow == null ? List.of(first) : List.of(first, new LabeledPrediction(shadow.id(), live.label(),
                shadow.predicted(), shadow.modelVersion()));
    }

    /** A sink serde writing one of an image's predictions as JSON; the topology never reads it back. */
    private static Serde<Classified> written(final Function<Classified, Prediction> side) {
        final JsonSerde<Prediction> json = JsonSerde.serdeFor(Prediction.class);
        return Serdes.serdeFrom((topic, classified) -> json.serialize(topic, side.apply(classified)),
                (topic, bytes) -> {
                    throw new UnsupportedOperationException("predictions are written, not read, by the topology");
                });
    }

    /** The partition number of the image a prediction answers, within the topic written to. */
    static final class ImagePartition implements StreamPartitioner<String, Classified> {

        @Override
        public Optional<Set<Integer>> partitions(final String topic, final String id, final Classified classified,
                final int numPartitions) {
            return Optional.of(Set.of(classified.imagePartition() % numPartitions));
        }
    }

    private static <S extends StateStore> StoreBuilder<S> logged(
            final StoreBuilder<S> store) {
        return store.withLoggingEnabled(Map.of()).withCachingDisabled();
    }

    /**
     * Decodes each image event, keyed by its id from here on; failures reach the dead-letter topic.
     * Downstream the image is timestamped with its event time, or the app's clock when that is ahead
     * (within the tolerated skew): what the app writes is never dated in the future, which the broker
     * would refuse and the accuracy windows would take as the present.
     */
    static final class DecodeStage extends ContextualProcessor<String, DigitImage, String, DecodedImage> {

        private final Duration maxClockSkew;

        DecodeStage(final Duration maxClockSkew) {
            this.maxClockSkew = maxClockSkew;
        }

        @Override
        public void process(final Record<String, DigitImage> record) {
            final long now = context().currentSystemTimeMs();
            final DecodedImage image = ImageDecoder.decode(record.key(), record.value(), record.timestamp(), now,
                    maxClockSkew);
            context().forward(record.withKey(image.id()).withValue(image)
                    .withTimestamp(Math.min(image.eventTime(), now)));
        }
    }

    /** Checks each late label as the schema defines it; failures reach the dead-letter topic. */
    static final class LabelCheck extends ContextualProcessor<String, DigitLabel, String, JoinInput> {

        @Override
        public void process(final Record<String, DigitLabel> record) {
            final DigitLabel label = record.value();
            if (label == null) {
                throw new InvalidMessageException("invalid-json", "label message is empty (null value)");
            }
            final String id = ImageDecoder.checkId(record.key(), label.id(), "label");
            if (label.label() == null || label.label() < 0 || label.label() >= DigitNetwork.CLASSES) {
                throw new InvalidMessageException("bad-label", "label " + label.label() + " for image " + id
                        + " is not a digit 0-9");
            }
            context().forward(record.withKey(id).withValue(JoinInput.of(label))
                    .withTimestamp(Math.min(record.timestamp(), context().currentSystemTimeMs())));
        }
    }
}
