package io.digitstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

/** Serialized records and the example documents must satisfy the published JSON Schemas. */
class ContractTest {

    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    static final Path INVALID_EXAMPLES = Path.of("json/examples/invalid");

    private static final int[] PIXELS = IntStream.range(0, 784).map(i -> i % 256).toArray();

    @ParameterizedTest
    @CsvSource({
        "digit-image.schema.json, digit-image-pixels.json",
        "digit-image.schema.json, digit-image-base64.json",
        "digit-image.schema.json, digit-image-png.json",
        "digit-label.schema.json, digit-label.json",
        "prediction.schema.json, prediction.json",
        "class-accuracy.schema.json, class-accuracy.json",
        "model-control.schema.json, model-control.json",
        "model-status.schema.json, model-status.json"})
    void exampleDocumentsSatisfyTheirSchemas(final String schema, final String example) throws IOException {
        assertThat(errors(schema, JsonSerde.MAPPER.readTree(resource("examples/" + example)))).isEmpty();
    }

    @Test
    void serializedRecordsSatisfyTheirSchemas() throws IOException {
        assertValid("digit-image.schema.json", DigitImage.ofPixels("a", PIXELS, 3, 1L, "test"));
        assertValid("digit-image.schema.json", DigitImage.ofPng("b", "iVBORw0KGgo=", null, null, null));
        assertValid("digit-image.schema.json", DigitImage.ofPixelsBase64("c", new byte[784], 0, 2L, "test"));
        assertValid("digit-label.schema.json", new DigitLabel("a", 3));
        assertValid("prediction.schema.json", new Prediction("a", 3, 0.9f,
                new float[] {0, 0, 0, 0.9f, 0.1f, 0, 0, 0, 0, 0}, "v1", 3, true, 1L, 2L));
        assertValid("prediction.schema.json", new Prediction("a", 3, 0.9f, new float[10], "v1", null, null, 1L, 2L));
        final ModelControl control = new ModelControl("v1", null, null, List.of())
                .then("v2", "v3", "v1", new ModelControl.Change("promote", "v2", "by test", 5L));
        assertValid("model-control.schema.json", control);
        assertValid("model-status.schema.json", new ModelStatus("v2", ModelStatus.REFUSED, "bad-sha256", "why", "i", 1L));
        assertValid("model-status.schema.json", new ModelStatus("v2", ModelStatus.PUBLISHED, null, null, "i", 1L));
        assertValid("class-accuracy.schema.json", new ClassAccuracy(ClassAccuracy.ALL_CLASSES, 0, 60_000, 4, 3, 0.75,
                new long[] {0, 0, 0, 3, 1, 0, 0, 0, 0, 0}, "v1"));
    }

    @Test
    void schemasRejectWhatTheTopologySendsToTheDeadLetterTopic() throws IOException {
        final JsonNode twoImages = JsonSerde.MAPPER.valueToTree(new DigitImage("a", PIXELS, null, "iVBORw0KGgo=", null,
                null, null));
        final JsonNode shortImage = JsonSerde.MAPPER.valueToTree(DigitImage.ofPixels("a", new int[] {1, 2}, null, null,
                null));
        final JsonNode badPixel = JsonSerde.MAPPER.valueToTree(DigitImage.ofPixels("a",
                IntStream.range(0, 784).map(i -> 300).toArray(), null, null, null));
        final JsonNode badLabel = JsonSerde.MAPPER.valueToTree(new DigitLabel("a", 12));

        assertThat(errors("digit-image.schema.json", twoImages)).isNotEmpty();
        assertThat(errors("digit-image.schema.json", shortImage)).isNotEmpty();
        assertThat(errors("digit-image.schema.json", badPixel)).isNotEmpty();
        assertThat(errors("digit-label.schema.json", badLabel)).isNotEmpty();
    }

    /** Every file of examples/invalid/, named {@code <dead-letter reason>.<case>.json}. */
    static List<String> invalidImages() throws IOException {
        try (Stream<Path> files = Files.list(INVALID_EXAMPLES)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    /** The stream app's decoder refuses the same files with the reason each is named for (its own test). */
    @ParameterizedTest
    @MethodSource("invalidImages")
    void invalidExampleImagesBreakTheSchemaOrAreNotJson(final String file) throws IOException {
        final String text = Files.readString(INVALID_EXAMPLES.resolve(file));
        JsonNode json = null;
        try {
            json = JsonSerde.MAPPER.readTree(text);
        } catch (final IOException notJson) {
            assertThat(file).as("only invalid-json examples may fail to parse").startsWith("invalid-json.");
        }
        if (json != null) {
            assertThat(errors("digit-image.schema.json", json)).as(file).isNotEmpty();
        }
    }

    @Test
    void serdeRoundTripsEveryMessage() {
        final DigitImage image = DigitImage.ofPixels("a", PIXELS, 3, 5L, "test");
        final Prediction prediction = new Prediction("a", 3, 0.9f, new float[10], "v1", 3, true, 1L, 2L);
        final ClassAccuracy accuracy = new ClassAccuracy("3", 0, 10, 1, 1, 1.0, new long[10], "v1");

        assertThat(roundTrip(image, DigitImage.class)).usingRecursiveComparison().isEqualTo(image);
        assertThat(roundTrip(new DigitLabel("a", 3), DigitLabel.class)).isEqualTo(new DigitLabel("a", 3));
        assertThat(roundTrip(prediction, Prediction.class)).usingRecursiveComparison().isEqualTo(prediction);
        assertThat(roundTrip(accuracy, ClassAccuracy.class)).usingRecursiveComparison().isEqualTo(accuracy);
    }

    @Test
    void serdeRejectsFloatPixelsStringLabelsTrailingGarbageAndOversizedMessages() {
        final JsonSerde<DigitImage> serde = JsonSerde.serdeFor(DigitImage.class).withMaxBytes(100);
        final JsonSerde<DigitImage> unlimited = JsonSerde.serdeFor(DigitImage.class);

        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\",\"pixels\":[1.5]}")))
                .isInstanceOf(SerializationException.class).hasMessageContaining("pixels");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\",\"label\":\"7\"}")))
                .isInstanceOf(SerializationException.class).hasMessageContaining("label");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\"} trailing")))
                .isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> serde.deserialize("t", new byte[101]))
                .isInstanceOf(MessageTooLargeException.class).hasMessageContaining("101 bytes");
        assertThat(unlimited.deserialize("t", bytes("{\"id\":\"a\",\"future\":1}")).id()).isEqualTo("a");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\",\"label\":\" \"}")))
                .isInstanceOf(SerializationException.class).hasMessageContaining("label");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":7}")))
                .isInstanceOf(SerializationException.class).hasMessageContaining("id");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\",\"pixels\":[null]}")))
                .isInstanceOf(SerializationException.class).hasMessageContaining("pixels");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\",\"id\":\"b\"}")))
                .isInstanceOf(SerializationException.class).hasMessageContaining("Duplicate");
        assertThatThrownBy(() -> unlimited.deserialize("t", bytes("{\"id\":\"a\",\"x\":" + "[".repeat(100)
                + "]".repeat(100) + "}"))).isInstanceOf(SerializationException.class).hasMessageContaining("depth");
        assertThatThrownBy(() -> unlimited.deserialize("t", new byte[] {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC3,
                (byte) 0x28, '"', '}'})).isInstanceOf(SerializationException.class).hasMessageContaining("UTF-8");
    }

    @Test
    void topicNamesAreDistinct() {
        assertThat(Topics.ALL).doesNotHaveDuplicates().hasSize(6).doesNotContain(Topics.MODELS);
    }

    private static <T> T roundTrip(final T value, final Class<T> type) {
        final JsonSerde<T> serde = JsonSerde.serdeFor(type);
        return serde.deserialize("t", serde.serialize("t", value));
    }

    private static void assertValid(final String schema, final Object message) throws IOException {
        final JsonNode json = JsonSerde.MAPPER.readTree(JsonSerde.serdeFor(Object.class).serialize("t", message));
        assertThat(errors(schema, json)).as("%s against %s", json, schema).isEmpty();
    }

    private static List<Error> errors(final String schemaFile, final JsonNode json) throws IOException {
        try (InputStream in = resource(schemaFile)) {
            final Schema schema = REGISTRY.getSchema(in);
            return schema.validate(json);
        }
    }

    private static InputStream resource(final String name) {
        final InputStream in = ContractTest.class.getResourceAsStream("/schemas/" + name);
        assertThat(in).as("resource /schemas/%s", name).isNotNull();
        return in;
    }

    private static byte[] bytes(final String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
