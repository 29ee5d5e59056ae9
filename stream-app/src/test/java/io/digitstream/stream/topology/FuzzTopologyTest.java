package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import io.digitstream.schemas.JsonSerde;
import io.digitstream.schemas.Topics;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

import io.digitstream.stream.TestFixtures;

/**
 * Generated messages, mutations of valid ones in every field and byte and plain random bytes,
 * through the real topology: each image message yields exactly one prediction or exactly one dead
 * letter, no exception escapes, and what the JSON Schema refuses is never classified. Labels likewise
 * never break the join, and every waiting set empties once the join window has passed.
 *
 * <p>{@value #IMAGE_TRIES} tries of {@value #IMAGES_PER_TRY} images and {@value #LABEL_TRIES} of
 * {@value #LABELS_PER_TRY} labels: 100,000 messages (docs/reliability.md).
 */
class FuzzTopologyTest {

    static final int IMAGE_TRIES = 1_000;
    static final int IMAGES_PER_TRY = 80;
    static final int LABEL_TRIES = 500;
    static final int LABELS_PER_TRY = 40;
    private static final Instant START = Instant.parse("2026-11-24T10:00:00Z");
    private static final Duration WAIT = Duration.ofMillis(50);
    private static final Duration JOIN_WINDOW = Duration.ofMinutes(2);
    private static final Duration SKEW = Duration.ofMinutes(5);
    /**
     * Refusals of schema-valid images that only the image's content, the record key, or the app's
     * policy (clock skew, size limit) explain.
     */
    private static final Set<String> BEYOND_THE_SCHEMA = Set.of("bad-png", "bad-timestamp", "too-large",
            "key-mismatch");
    private static final int MAX_IMAGE_BYTES = 50_000;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static Schema imageSchema;
    private static Schema labelSchema;
    private static String digitPng;

    private Path stateDir;
    private TopologyTestDriver driver;
    private ClassifierPool classifiers;
    private TestInputTopic<String, byte[]> images;
    private TestInputTopic<String, byte[]> labels;
    private TestOutputTopic<String, String> predictions;
    private TestOutputTopic<byte[], byte[]> deadLetters;
    private long sequence;
    private int processingErrors;

    @BeforeProperty
    void startDriver() throws IOException {
        synchronized (FuzzTopologyTest.class) {
            if (imageSchema == null) {
                final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
                imageSchema = schema(registry, "digit-image.schema.json");
                labelSchema = schema(registry, "digit-label.schema.json");
                digitPng = JsonSerde.MAPPER.readTree(Files.readString(
                        Path.of("../schemas/json/examples/digit-image-png.json"))).get("png").asText();
            }
        }
        stateDir = Files.createTempDirectory("fuzz-state");
        final StreamMetrics metrics = new StreamMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        final TopologySettings settings = new TopologySettings(64, WAIT, JOIN_WINDOW, Duration.ofMinutes(1),
                Duration.ofMinutes(1), JOIN_WINDOW, WAIT, MAX_IMAGE_BYTES, false, null, SKEW,
                TopologySettings.DEFAULT_MAX_PENDING_JOINS);
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "fuzz");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.putAll(DigitStreamTopology.errorHandling(metrics::deadLetter));
        classifiers = new ClassifierPool(TestFixtures.classifier());
        driver = new TopologyTestDriver(DigitStreamTopology.buildTopology(new StreamsBuilder(), settings, classifiers,
                metrics, ClassifiedImages.NONE), props, START);
        images = driver.createInputTopic(Topics.IMAGES, new org.apache.kafka.common.serialization.StringSerializer(),
                new ByteArraySerializer(), START, Duration.ZERO);
        labels = driver.createInputTopic(Topics.LABELS, new org.apache.kafka.common.serialization.StringSerializer(),
                new ByteArraySerializer(), START, Duration.ZERO);
        predictions = driver.createOutputTopic(Topics.PREDICTIONS, new StringDeserializer(), new StringDeserializer());
        deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    @AfterProperty
    void closeDriver() throws IOException {
        // Whatever the messages were, the state drains: the buffer at once, the join's waiting sets
        // once the window has passed.
        driver.advanceWallClockTime(JOIN_WINDOW.plusMinutes(1));
        try {
            assertThat(driver.getKeyValueStore(BatchingClassifier.BUFFER_STORE).approximateNumEntries()).isZero();
            assertThat(driver.getKeyValueStore(LabelJoiner.AWAITING_LABEL_STORE).approximateNumEntries()).isZero();
            assertThat(driver.getKeyValueStore(LabelJoiner.AWAITING_PREDICTION_STORE).approximateNumEntries())
                    .isZero();
            assertThat(processingErrors).as("dead letters for failures that are not the input's").isZero();
        } finally {
            driver.close();
            classifiers.close();
            org.apache.kafka.common.utils.Utils.delete(stateDir.toFile());
        }
    }

    @Property(tries = IMAGE_TRIES)
    void everyImageMessageGetsOnePredictionOrOneDeadLetter(@ForAll final long seed) throws IOException {
        final Random random = new Random(seed);
        final Map<String, Boolean> schemaValid = new HashMap<>();
        final Map<String, byte[]> sent = new HashMap<>();
        for (int i = 0; i < IMAGES_PER_TRY; i++) {
            final String key = "f-" + sequence++;
            final byte[] message = imageMessage(random, key);
            sent.put(key, message);
            schemaValid.put(key, accepted(imageSchema, message, true));
            images.pipeInput(key, message);
        }
        driver.advanceWallClockTime(WAIT);

        final Map<String, String> outcomes = new HashMap<>();
        final List<String> twice = new ArrayList<>();
        for (final TestRecord<String, String> prediction : predictions.readRecordsToList()) {
            if (outcomes.put(prediction.key(), "prediction") != null) {
                twice.add(prediction.key());
            }
        }
        for (final TestRecord<byte[], byte[]> letter : deadLetters.readRecordsToList()) {
            final String key = new String(letter.key(), StandardCharsets.UTF_8);
            final String reason = header(letter, DeadLetters.REASON_HEADER);
            processingErrors += "processing-error".equals(reason) ? 1 : 0;
            if (outcomes.put(key, reason) != null) {
                twice.add(key);
            }
        }
        assertThat(twice).as("messages with two outcomes").isEmpty();
        assertThat(outcomes.keySet()).as("one outcome per message").isEqualTo(schemaValid.keySet());
        schemaValid.forEach((key, valid) -> {
            final String outcome = outcomes.get(key);
            if (!valid) {
                assertThat(outcome).as("%s, which the schema refuses: %s", key, clip(sent.get(key)))
                        .isNotEqualTo("prediction");
            } else if (!"prediction".equals(outcome)) {
                assertThat(outcome).as("%s, which the schema accepts: %s", key, clip(sent.get(key)))
                        .isIn(BEYOND_THE_SCHEMA);
            }
        });
    }

    @Property(tries = LABEL_TRIES)
    void labelsNeverBreakTheJoin(@ForAll final long seed) throws IOException {
        final Random random = new Random(seed);
        final Map<String, Boolean> schemaValid = new HashMap<>();
        for (int i = 0; i < LABELS_PER_TRY; i++) {
            final String key = "l-" + sequence++;
            final ObjectNode label = NODES.objectNode().put("id", key).put("label", random.nextInt(10));
            final byte[] message = random.nextInt(10) == 0 ? randomBytes(random)
                    : mutateBytes(random, JsonSerde.MAPPER.writeValueAsBytes(mutate(random, label, key)));
            schemaValid.put(key, accepted(labelSchema, message, false));
            labels.pipeInput(key, message);
        }
        final Map<String, String> refused = new HashMap<>();
        for (final TestRecord<byte[], byte[]> letter : deadLetters.readRecordsToList()) {
            final String reason = header(letter, DeadLetters.REASON_HEADER);
            processingErrors += "processing-error".equals(reason) ? 1 : 0;
            assertThat(refused.put(new String(letter.key(), StandardCharsets.UTF_8), reason)).isNull();
        }
        schemaValid.forEach((key, valid) -> {
            if (!valid) {
                assertThat(refused).as("%s, which the schema refuses", key).containsKey(key);
            } else if (refused.containsKey(key)) {
                assertThat(refused.get(key)).as("%s, which the schema accepts", key)
                        .isIn("key-mismatch", "too-large");
            }
        });
    }

    /** A valid image event, mutated or not, as bytes; now and then plain random bytes. */
    private static byte[] imageMessage(final Random random, final String key) throws IOException {
        if (random.nextInt(12) == 0) {
            return randomBytes(random);
        }
        final ObjectNode image = NODES.objectNode().put("id", key);
        switch (random.nextInt(3)) {
            case 0 -> {
                final ArrayNode pixels = image.putArray("pixels");
                for (int i = 0; i < 784; i++) {
                    pixels.add(random.nextInt(256));
                }
            }
            case 1 -> {
                final byte[] pixels = new byte[784];
                random.nextBytes(pixels);
                image.put("pixelsBase64", Base64.getEncoder().encodeToString(pixels));
            }
            default -> image.put("png", digitPng);
        }
        if (random.nextBoolean()) {
            image.put("label", random.nextInt(10));
        }
        if (random.nextBoolean()) {
            image.put("timestamp", START.toEpochMilli() - random.nextInt(1_000_000));
        }
        if (random.nextBoolean()) {
            image.put("source", "fuzz");
        }
        final JsonNode mutated = random.nextInt(4) == 0 ? image : mutate(random, image, key);
        return mutateBytes(random, JsonSerde.MAPPER.writeValueAsBytes(mutated));
    }

    /** Zero to three changes to fields of {@code message}: values of wrong types, out of range, huge, missing. */
    private static ObjectNode mutate(final Random random, final ObjectNode message, final String key) {
        final String[] fields = {"id", "pixels", "pixelsBase64", "png", "label", "timestamp", "source", "extra"};
        final int changes = random.nextInt(4);
        for (int c = 0; c < changes; c++) {
            final String field = fields[random.nextInt(fields.length)];
            switch (random.nextInt(14)) {
                case 0 -> message.remove(field);
                case 1 -> message.putNull(field);
                case 2 -> message.put(field, random.nextLong());
                case 3 -> message.put(field, random.nextDouble() * 300);
                case 4 -> message.put(field, random.nextBoolean());
                case 5 -> message.put(field, "s".repeat(random.nextInt(300)));
                case 6 -> message.put(field, random.nextInt(40) - 20);
                case 7 -> message.put(field, new java.math.BigInteger(100, random));
                case 8 -> message.set(field, nested(random.nextInt(120)));
                case 9 -> message.put(field, START.toEpochMilli() + Duration.ofHours(random.nextInt(100_000)).toMillis());
                case 10 -> message.put(field, " ");
                case 11 -> {
                    final ArrayNode values = message.putArray(field);
                    final int length = random.nextBoolean() ? 784 : random.nextInt(800);
                    for (int i = 0; i < length; i++) {
                        if (random.nextInt(200) == 0) {
                            values.addNull();
                        } else {
                            values.add(random.nextInt(200) == 0 ? 256 + random.nextInt(10) : random.nextInt(256));
                        }
                    }
                }
                case 12 -> message.put(field, Base64.getEncoder().withoutPadding()
                        .encodeToString(new byte[random.nextInt(800)]));
                default -> message.put("id", random.nextBoolean() ? key + "-other" : key);
            }
        }
        return message;
    }

    /** Now and then a change to the bytes: truncated, a byte changed, invalid UTF-8, a duplicate field, garbage after. */
    private static byte[] mutateBytes(final Random random, final byte[] bytes) {
        switch (random.nextInt(10)) {
            case 0 -> {
                return java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
            }
            case 1 -> {
                final byte[] changed = bytes.clone();
                changed[random.nextInt(changed.length)] = (byte) random.nextInt(256);
                return changed;
            }
            case 2 -> {
                return splice(bytes, random.nextInt(bytes.length), new byte[] {(byte) 0xC3, (byte) 0x28});
            }
            case 3 -> {
                return splice(bytes, 1, "\"id\":\"dup\",".getBytes(StandardCharsets.UTF_8));
            }
            case 4 -> {
                return splice(bytes, bytes.length, " x".getBytes(StandardCharsets.UTF_8));
            }
            default -> {
                return bytes;
            }
        }
    }

    /** The message's text without its 784 pixels, for an assertion's description. */
    private static String clip(final byte[] message) {
        final String text = new String(message, StandardCharsets.UTF_8).replaceAll("(\\d+,){20,}", "...,");
        return text.length() > 600 ? text.substring(0, 600) + "..." : text;
    }

    private static byte[] splice(final byte[] bytes, final int at, final byte[] inserted) {
        final byte[] result = new byte[bytes.length + inserted.length];
        System.arraycopy(bytes, 0, result, 0, at);
        System.arraycopy(inserted, 0, result, at, inserted.length);
        System.arraycopy(bytes, at, result, at + inserted.length, bytes.length - at);
        return result;
    }

    private static byte[] randomBytes(final Random random) {
        final byte[] bytes = new byte[random.nextInt(3_000)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static JsonNode nested(final int depth) {
        JsonNode node = NODES.numberNode(1);
        for (int i = 0; i < depth; i++) {
            node = NODES.arrayNode().add(node);
        }
        return node;
    }

    /**
     * Whether the message is one the contract accepts: strict JSON (no duplicate fields, valid UTF-8,
     * nothing after the object) that its schema validates, with its integers written as integers (the
     * schemas' $comment: JSON Schema counts 100.0 and 1E2 as integers, the app does not).
     */
    private static boolean accepted(final Schema schema, final byte[] message, final boolean image) {
        final JsonNode json;
        try {
            json = JsonSerde.MAPPER.readTree(message);
        } catch (final IOException e) {
            return false;
        }
        return json != null && schema.validate(json).isEmpty() && !integerWrittenAsFloat(json, image);
    }

    /** Whether one of the message's own integer fields (an image's or a label's) is written as a float. */
    private static boolean integerWrittenAsFloat(final JsonNode message, final boolean image) {
        if (message.path("label").isFloatingPointNumber()
                || image && message.path("timestamp").isFloatingPointNumber()) {
            return true;
        }
        if (!image) {
            return false;
        }
        for (final JsonNode pixel : message.path("pixels")) {
            if (pixel.isFloatingPointNumber()) {
                return true;
            }
        }
        return false;
    }

    private static String header(final TestRecord<byte[], byte[]> record, final String name) {
        final Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static Schema schema(final SchemaRegistry registry, final String file) throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("../schemas/json").resolve(file))) {
            return registry.getSchema(in);
        }
    }
}
