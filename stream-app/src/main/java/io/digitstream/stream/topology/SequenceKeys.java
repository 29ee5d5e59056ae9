package io.digitstream.stream.topology;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.utils.Bytes;

/**
 * The inference buffer's keys, its images' arrival numbers, as 19 decimal digits: in the numbers'
 * order, and with distinct hash codes. Kafka Streams' cache keeps each task's dirty keys in a hash
 * set, where the 8-byte form of consecutive numbers collided, and in a tree ordered by their bytes,
 * where keys in arrival order stay on a path already in the CPU's caches (docs/benchmarks.md).
 */
final class SequenceKeys {

    static final int DIGITS = 19;

    private SequenceKeys() {
    }

    static Bytes key(final long sequence) {
        if (sequence < 0) {
            throw new SerializationException("inference buffer key " + sequence + " is negative");
        }
        final byte[] key = new byte[DIGITS];
        long rest = sequence;
        for (int i = DIGITS - 1; i >= 0; i--) {
            key[i] = (byte) ('0' + rest % 10);
            rest /= 10;
        }
        return Bytes.wrap(key);
    }

    /** The arrival number in a key. */
    static long sequence(final Bytes key) {
        final byte[] bytes = key.get();
        if (bytes.length != DIGITS) {
            throw new SerializationException("inference buffer key of " + bytes.length + " bytes; expected "
                    + DIGITS + " digits");
        }
        long sequence = 0;
        for (final byte digit : bytes) {
            if (digit < '0' || digit > '9') {
                throw new SerializationException("inference buffer key '"
                        + new String(bytes, StandardCharsets.US_ASCII) + "' is not all digits");
            }
            sequence = sequence * 10 + (digit - '0');
        }
        return sequence;
    }
}
