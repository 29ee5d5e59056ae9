package io.digitstream.schemas;

import java.io.IOException;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

/**
 * The one JSON serde of the project, for every message type: {@code JsonSerde.serdeFor(Prediction.class)}.
 *
 * <p>Strict where a lenient parser would hide bad input, as the JSON Schemas are: a float or a string
 * is not an integer pixel or label (nor is an empty one), a number or boolean is not a string id, a
 * null pixel is not 0,
 * and a field given twice is an error. Unknown fields are ignored so producers can add fields first.
 *
 * @param <T> the message type
 */
public final class JsonSerde<T> implements Serde<T>, Serializer<T>, Deserializer<T> {

    /** No limit on message size. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    /** Our messages nest two levels deep; this bounds what an unknown field can make the parser skip through. */
    private static final int MAX_NESTING = 64;

    public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .build())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // Jackson reads "" and " " as null for a number; the schemas do not.
            .withCoercionConfigDefaults(config -> config.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                    .setAcceptBlankAsEmpty(false))
            .withCoercionConfig(LogicalType.Textual, config -> config
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            // Ten probabilities per prediction: the JDK's double formatting showed up in profiles.
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private final Class<T> type;
    private final int maxBytes;

    private JsonSerde(final Class<T> type, final int maxBytes) {
        this.type = type;
        this.maxBytes = maxBytes;
    }

    public static <T> JsonSerde<T> serdeFor(final Class<T> type) {
        return new JsonSerde<>(type, UNLIMITED);
    }

    /** The same serde, rejecting serialized messages over {@code limit} bytes before parsing them. */
    public JsonSerde<T> withMaxBytes(final int limit) {
        return new JsonSerde<>(type, limit);
    }

    @Override
    public byte[] serialize(final String topic, final T data) {
        if (data == null) {
            return null;
        }
        try {
            return MAPPER.writeValueAsBytes(data);
        } catch (final IOException e) {
            throw new SerializationException("cannot write " + type.getSimpleName() + " as JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public T deserialize(final String topic, final byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length > maxBytes) {
            throw new MessageTooLargeException("message of " + data.length + " bytes on " + topic
                    + " is over the limit of " + maxBytes + " bytes");
        }
        try {
            return MAPPER.readValue(data, type);
        } catch (final IOException e) {
            throw new SerializationException("not a valid " + type.getSimpleName() + " JSON message: "
                    + describe(e), e);
        }
    }

    /** Jackson's reason without its multi-line source excerpt, plus the field path when known. */
    private static String describe(final IOException e) {
        if (e instanceof JsonProcessingException json) {
            final String path = json instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()
                    ? " (at " + mapping.getPathReference() + ")" : "";
            return json.getOriginalMessage() + path;
        }
        return e.getMessage();
    }

    @Override
    public void configure(final java.util.Map<String, ?> configs, final boolean isKey) {
        // Configured in code; nothing to read from the client configuration.
    }

    @Override
    public void close() {
        // Holds no resources.
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }
}
