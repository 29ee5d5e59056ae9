package io.digitstream.stream.topology;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Stream time from the records' timestamps, bounded by the app's clock: a record without a timestamp,
 * or with one ahead of the clock (a producer's clock may be hours off, and a broker may accept it),
 * counts as arriving now. So no record can push stream time, and with it the accuracy windows, ahead
 * of real time, and no record stops its partition for want of a timestamp.
 */
public final class ArrivalTimestamps implements TimestampExtractor {

    @Override
    public long extract(final ConsumerRecord<Object, Object> record, final long partitionTime) {
        final long now = System.currentTimeMillis();
        final long timestamp = record.timestamp();
        return timestamp < 0 || timestamp > now ? now : timestamp;
    }
}
