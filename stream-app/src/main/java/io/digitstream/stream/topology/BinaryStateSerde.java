package io.digitstream.stream.topology;

import java.nio.ByteBuffer;
import java.util.Map;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A compact binary form for values the app keeps for itself (state stores, their changelogs, its
 * repartition topic), written once or more per image, where JSON cost more than the rest of the
 * record's handling. The first byte names the format.
 *
 * @param <T> the value type
 */
abstract class BinaryStateSerde<T> implements Serde<T>, Serializer<T>, Deserializer<T> {

    private final byte format;
    private final int minimumSize;
    private final String what;

    /**
     * @param format      this layout's first byte
     * @param minimumSize the fewest bytes a value of this layout has, format byte included
     * @param what        what a value is, for error messages
     */
    BinaryStateSerde(final byte format, final int minimumSize, final String what) {
        this.format = format;
        this.minimumSize = minimumSize;
        this.what = what;
    }

    /** The value in a buffer from {@link #allocate}, filled to its end. */
    abstract ByteBuffer write(T value);

    /** A buffer for {@code size} bytes after the format byte, which it already holds. */
    final ByteBuffer allocate(final int size) {
        return ByteBuffer.allocate(1 + size).put(format);
    }

    /** The value back from the bytes after the format byte. */
    abstract T read(ByteBuffer buffer);

    @Override
    public final byte[] serialize(final String topic, final T value) {
        if (value == null) {
            return null;
        }
        return write(value).array();
    }

    @Override
    public final T deserialize(final String topic, final byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < minimumSize || data[0] != format) {
            throw new IllegalStateException(what + " of " + data.length + " bytes in an unknown format ("
                    + (data.length == 0 ? "empty" : "format byte " + data[0]) + "); was it written by a newer"
                    + " version?");
        }
        return read(ByteBuffer.wrap(data, 1, data.length - 1));
    }

    @Override
    public final void configure(final Map<String, ?> configs, final boolean isKey) {
        // Nothing to configure.
    }

    @Override
    public final void close() {
        // Nothing to release.
    }

    @Override
    public final Serializer<T> serializer() {
        return this;
    }

    @Override
    public final Deserializer<T> deserializer() {
        return this;
    }
}
