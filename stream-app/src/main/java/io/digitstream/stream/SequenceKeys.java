package io.digitstream.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The inference buffer's keys, its images' arrival numbers, as 19 decimal digits: in the same order
 * as the numbers, as the buffer's restore needs, and with distinct hash codes. Kafka Streams' cache
 * keeps each task's dirty keys in a hash set, and the 8-byte big-endian form of consecutive numbers
 * gave about one hash code per three keys; adding to that set took 8% of the stream threads' Java time.
 * Keys of 8 bytes, as earlier versions wrote them, are still read, and sort before these.
 */
public final class SequenceKeySerde implements Serde<Long>, Serializer<Long>, Deserializer<Long> {

    static final int DIGITS = 19;

    @Override
    public byte[] serialize(final String topic, final Long sequence) {
        if (sequence == null) {
            return null;
        }
        if (sequence < 0) {
            throw new SerializationException("inference buffer key " + sequence + " is negative");
        }
        final byte[] key = new byte[DIGITS];
        long rest = sequence;
        for (int i = DIGITS - 1; i >= 0; i--) {
            key[i] = (byte) ('0' + rest % 10);
            rest /= 10;
        }
        return key;
    }

    @Override
    public Long deserialize(final String topic, final byte[] key) {
        if (key == null) {
            return null;
        }
        if (key.length == Long.BYTES) {
            return ByteBuffer.wrap(key).getLong();
        }
        if (key.length != DIGITS) {
            throw new SerializationException("inference buffer key of " + key.length + " bytes; expected "
                    + DIGITS + " digits or an 8-byte number");
        }
        long sequence = 0;
        for (final byte digit : key) {
            if (digit < '0' || digit > '9') {
                throw new SerializationException("inference buffer key '"
                        + new String(key, StandardCharsets.US_ASCII) + "' is not all digits");
            }
            sequence = sequence * 10 + (digit - '0');
        }
        return sequence;
    }

    @Override
    public void configure(final java.util.Map<String, ?> configs, final boolean isKey) {
        // Nothing to configure.
    }

    @Override
    public void close() {
        // Holds no resources.
    }

    @Override
    public Serializer<Long> serializer() {
        return this;
    }

    @Override
    public Deserializer<Long> deserializer() {
        return this;
    }
}
