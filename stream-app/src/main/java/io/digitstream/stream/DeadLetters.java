package io.digitstream.stream;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.digitstream.schemas.MessageTooLargeException;

/**
 * Sends every record that cannot be deserialized or processed to the dead-letter topic and carries
 * on. The records are those of Kafka Streams' built-in dead-letter queue (original key and value
 * bytes, {@code __streams.errors.*} headers) plus {@value #REASON_HEADER} and {@value #STAGE_HEADER},
 * and each is counted by reason.
 */
public final class DeadLetters implements ProcessingExceptionHandler, DeserializationExceptionHandler {

    public static final String REASON_HEADER = "digits.error.reason";
    public static final String STAGE_HEADER = "digits.error.stage";
    /** Streams configuration entry through which the running app hands over its metrics. */
    public static final String METRICS_CONFIG = "digits.metrics";
    public static final String DESERIALIZE_STAGE = "deserialize";

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

    private String topic;
    private StreamMetrics metrics;

    @Override
    public void configure(final Map<String, ?> configs) {
        topic = (String) configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        if (topic == null) {
            throw new IllegalStateException(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG + " is not set");
        }
        metrics = (StreamMetrics) configs.get(METRICS_CONFIG);
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

    private List<ProducerRecord<byte[], byte[]>> deadLetter(final ErrorHandlerContext context, final byte[] key,
            final byte[] value, final String stage, final Exception exception) {
        final String reason = reasonOf(exception);
        if (exception instanceof InvalidMessageException || DESERIALIZE_STAGE.equals(stage)) {
            log.warn("Dead letter from {}-{}@{} at {}: {} ({})", context.topic(), context.partition(), context.offset(),
                    stage, exception.getMessage(), reason);
        } else {
            log.error("Dead letter from {}-{}@{} at {}: unexpected failure", context.topic(), context.partition(),
                    context.offset(), stage, exception);
        }
        if (metrics != null) {
            metrics.deadLetter(reason);
        }
        final ProducerRecord<byte[], byte[]> letter =
                ExceptionHandlerUtils.buildDeadLetterQueueRecord(topic, key, value, context, exception);
        if (exception instanceof InvalidMessageException) {
            // Bad input, not a bug: the message says it all and a stack trace would only add noise.
            letter.headers().remove(ExceptionHandlerUtils.HEADER_ERRORS_STACKTRACE_NAME);
        }
        letter.headers().add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        letter.headers().add(STAGE_HEADER, stage.getBytes(StandardCharsets.UTF_8));
        return List.of(letter);
    }

    static String reasonOf(final Exception exception) {
        if (exception instanceof InvalidMessageException invalid) {
            return invalid.reason();
        }
        if (exception instanceof MessageTooLargeException) {
            return "too-large";
        }
        if (exception instanceof org.apache.kafka.common.errors.SerializationException) {
            return "invalid-json";
        }
        return "processing-error";
    }
}
