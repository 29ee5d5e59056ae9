package io.digitstream.stream.topology;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.exc.MismatchedInputException;

import io.digitstream.schemas.InvalidMessageException;
import io.digitstream.schemas.MessageTooLargeException;

/**
 * Sends every record that cannot be deserialized, processed or produced to the dead-letter topic and
 * carries on. The records carry the headers of Kafka Streams' built-in dead-letter queue ({@code
 * __streams.errors.*}: exception, message, source topic, partition and offset) plus {@value
 * #REASON_HEADER} and {@value #STAGE_HEADER}, and each is counted by reason.
 *
 * <p>A dead letter must always be writable, whatever arrived: it is stamped with the app's clock,
 * not the record's (which a producer may have set years ahead), and when the original key and value
 * would not fit in {@link #MAX_BYTES} (a compressed message can arrive far larger than the producer
 * limit) it carries a prefix of each, with their sizes and SHA-256 in {@code digits.error.original.*}
 * headers. The original record's own headers travel only while they are small.
 */
public final class DeadLetters implements ProcessingExceptionHandler, DeserializationExceptionHandler,
        ProductionExceptionHandler {

    public static final String REASON_HEADER = "digits.error.reason";
    public static final String STAGE_HEADER = "digits.error.stage";
    /** Present when the value or key is only a prefix: "key", "value" or "key,value". */
    public static final String TRUNCATED_HEADER = "digits.error.truncated";
    public static final String ORIGINAL_VALUE_SIZE_HEADER = "digits.error.original.value.bytes";
    public static final String ORIGINAL_VALUE_SHA256_HEADER = "digits.error.original.value.sha256";
    public static final String ORIGINAL_KEY_SIZE_HEADER = "digits.error.original.key.bytes";
    public static final String ORIGINAL_KEY_SHA256_HEADER = "digits.error.original.key.sha256";
    /**
     * Streams configuration entry holding the {@link ReasonCounter} the running app counts dead
     * letters with: Kafka Streams makes its handlers from a class name, so its config is the one way in.
     */
    public static final String COUNTER_CONFIG = "digits.dead.letter.counter";
    public static final String DESERIALIZE_STAGE = "deserialize";
    public static final String PRODUCE_STAGE = "produce";
    /** The reason of an output record Kafka refused. */
    public static final String OUTPUT_REFUSED = "output-refused";

    /**
     * Largest dead letter, key, value and headers: under the producer's default {@code
     * max.request.size} and the topic's default {@code max.message.bytes} (both about 1 MiB), with
     * room for the record's framing.
     */
    static final int MAX_BYTES = 1_000_000;
    /** How much of a value or key too large to travel whole is kept. */
    static final int PREFIX_BYTES = 64 * 1024;
    /** The original headers are copied while they take at most this many bytes. */
    static final int MAX_ORIGINAL_HEADER_BYTES = 16 * 1024;
    /** Longest error message and stack trace kept in a header. */
    static final int MAX_TEXT = 4 * 1024;

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

    /** Counts dead letters by reason; called on stream threads. */
    @FunctionalInterface
    public interface ReasonCounter {
        void deadLetter(String reason);
    }

    private String topic;
    private ReasonCounter counter = reason -> {
    };

    @Override
    public void configure(final Map<String, ?> configs) {
        topic = (String) configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        if (topic == null) {
            throw new IllegalStateException(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG + " is not set");
        }
        if (configs.get(COUNTER_CONFIG) instanceof ReasonCounter given) {
            counter = given;
        }
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(final ErrorHandlerContext context, final Record<?, ?> record,
            final Exception exception) {
        return ProcessingExceptionHandler.Response.resume(
                deadLetter(context, context.sourceRawKey(), context.sourceRawValue(), context.processorNodeId(),
                        exception));
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(final ErrorHandlerContext context,
            final ConsumerRecord<byte[], byte[]> record, final Exception exception) {
        return DeserializationExceptionHandler.Response.resume(
                deadLetter(context, record.key(), record.value(), DESERIALIZE_STAGE, exception));
    }

    /**
     * An output Kafka refused (too large, a timestamp the broker will not take, not authorized): a
     * retriable error is retried, anything else becomes a dead letter holding the refused record, so
     * one record cannot stop the stream thread.
     */
    @Override
    public ProductionExceptionHandler.Response handleError(final ErrorHandlerContext context,
            final ProducerRecord<byte[], byte[]> record, final Exception exception) {
        if (exception instanceof RetriableException) {
            return ProductionExceptionHandler.Response.retry();
        }
        if (topic.equals(record.topic())) {
            // A dead letter that cannot be written is logged; another attempt would fail the same way.
            log.error("Dead letter to {} refused: {}", topic, exception.toString());
            return ProductionExceptionHandler.Response.resume();
        }
        return ProductionExceptionHandler.Response.resume(deadLetter(context, record.key(), record.value(),
                PRODUCE_STAGE + ":" + record.topic(), new InvalidMessageException(OUTPUT_REFUSED, "output to "
                        + record.topic() + " refused: " + exception, exception)));
    }

    @Override
    @SuppressWarnings("rawtypes")
    public ProductionExceptionHandler.Response handleSerializationError(final ErrorHandlerContext context,
            final ProducerRecord record, final Exception exception, final SerializationExceptionOrigin origin) {
        return ProductionExceptionHandler.Response.resume(deadLetter(context, context.sourceRawKey(),
                context.sourceRawValue(), PRODUCE_STAGE + ":" + record.topic(), exception));
    }

    private List<ProducerRecord<byte[], byte[]>> deadLetter(final ErrorHandlerContext context, final byte[] key,
            final byte[] value, final String stage, final Exception exception) {
        final String reason = reasonOf(exception);
        if (exception instanceof InvalidMessageException || DESERIALIZE_STAGE.equals(stage)) {
            log.warn("Dead letter from {}-{}@{} at {}: {} ({})", context.topic(), context.partition(), context.offset(),
                    stage, clip(exception.getMessage()), reason);
        } else {
            log.error("Dead letter from {}-{}@{} at {}: unexpected failure", context.topic(), context.partition(),
                    context.offset(), stage, exception);
        }
        counter.deadLetter(reason);
        return List.of(letter(topic, key, value, context.headers(), context.topic(), context.partition(),
                context.offset(), stage, reason, exception));
    }

    /**
     * The dead letter of one record, at most {@link #MAX_BYTES}, timestamped by the producer's clock.
     *
     * @param originalHeaders the source record's headers, or null
     */
    static ProducerRecord<byte[], byte[]> letter(final String topic, final byte[] key, final byte[] value,
            final Headers originalHeaders, final String sourceTopic, final int partition, final long offset,
            final String stage, final String reason, final Exception exception) {
        final RecordHeaders headers = new RecordHeaders();
        if (originalHeaders != null && size(originalHeaders) <= MAX_ORIGINAL_HEADER_BYTES) {
            originalHeaders.forEach(headers::add);
        }
        add(headers, ExceptionHandlerUtils.HEADER_ERRORS_EXCEPTION_NAME, exception.getClass().getName());
        add(headers, ExceptionHandlerUtils.HEADER_ERRORS_EXCEPTION_MESSAGE_NAME, clip(exception.getMessage()));
        if (!(exception instanceof InvalidMessageException)) {
            // Bad input, not a bug, needs no stack trace: its message says it all.
            final StringWriter trace = new StringWriter();
            exception.printStackTrace(new PrintWriter(trace));
            add(headers, ExceptionHandlerUtils.HEADER_ERRORS_STACKTRACE_NAME, clip(trace.toString()));
        }
        add(headers, ExceptionHandlerUtils.HEADER_ERRORS_TOPIC_NAME, String.valueOf(sourceTopic));
        add(headers, ExceptionHandlerUtils.HEADER_ERRORS_PARTITION_NAME, String.valueOf(partition));
        add(headers, ExceptionHandlerUtils.HEADER_ERRORS_OFFSET_NAME, String.valueOf(offset));
        add(headers, REASON_HEADER, reason);
        add(headers, STAGE_HEADER, stage);
        byte[] keptKey = key;
        byte[] keptValue = value;
        if (length(key) + length(value) + size(headers) > MAX_BYTES) {
            final StringBuilder truncated = new StringBuilder();
            if (length(key) > PREFIX_BYTES) {
                keptKey = Arrays.copyOf(key, PREFIX_BYTES);
                add(headers, ORIGINAL_KEY_SIZE_HEADER, Integer.toString(key.length));
                add(headers, ORIGINAL_KEY_SHA256_HEADER, sha256(key));
                truncated.append("key");
            }
            if (length(value) > PREFIX_BYTES) {
                keptValue = Arrays.copyOf(value, PREFIX_BYTES);
                add(headers, ORIGINAL_VALUE_SIZE_HEADER, Integer.toString(value.length));
                add(headers, ORIGINAL_VALUE_SHA256_HEADER, sha256(value));
                truncated.append(truncated.length() > 0 ? ",value" : "value");
            }
            add(headers, TRUNCATED_HEADER, truncated.toString());
        }
        return new ProducerRecord<>(topic, null, null, keptKey, keptValue, headers);
    }

    static String reasonOf(final Exception exception) {
        if (exception instanceof InvalidMessageException invalid) {
            return invalid.reason();
        }
        if (exception instanceof MessageTooLargeException) {
            return "too-large";
        }
        if (exception instanceof org.apache.kafka.common.errors.SerializationException) {
            return exception.getCause() instanceof MismatchedInputException ? "wrong-type" : "invalid-json";
        }
        return "processing-error";
    }

    private static void add(final Headers headers, final String name, final String value) {
        headers.add(name, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    private static String clip(final String text) {
        return text == null || text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT) + "... (clipped)";
    }

    private static int length(final byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static int size(final Headers headers) {
        int size = 0;
        for (final Header header : headers) {
            size += header.key().length() + length(header.value()) + 2;
        }
        return size;
    }

    private static String sha256(final byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
