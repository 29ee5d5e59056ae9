package io.digitstream.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.JsonSerde;

/**
 * The inference buffer's own binary form of a decoded image: it never leaves the app (only its
 * changelog topic holds it), and every image passes through it, so it is a plain copy of the 784
 * bytes rather than JSON. Layout: format byte, event time (8 bytes), label (1 byte, -1 when
 * unknown), the pixels, then the id in UTF-8.
 *
 * <p>Buffer changelogs written by earlier versions hold JSON; those entries are still read, so an
 * upgrade restores whatever images were buffered when the old version stopped.
 */
public final class DecodedImageSerde implements Serde<DecodedImage>, Serializer<DecodedImage>,
        Deserializer<DecodedImage> {

    private static final byte FORMAT = 1;
    private static final byte NO_LABEL = -1;
    private static final int HEADER = 1 + Long.BYTES + 1;
    private static final JsonSerde<DecodedImage> EARLIER_JSON = JsonSerde.serdeFor(DecodedImage.class);

    @Override
    public byte[] serialize(final String topic, final DecodedImage image) {
        if (image == null) {
            return null;
        }
        final byte[] id = image.id().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(HEADER + DigitNetwork.PIXELS + id.length)
                .put(FORMAT)
                .putLong(image.eventTime())
                .put(image.label() == null ? NO_LABEL : image.label().byteValue())
                .put(image.pixels())
                .put(id)
                .array();
    }

    @Override
    public DecodedImage deserialize(final String topic, final byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length > 0 && data[0] == '{') {
            return EARLIER_JSON.deserialize(topic, data);
        }
        if (data.length < HEADER + DigitNetwork.PIXELS || data[0] != FORMAT) {
            throw new IllegalStateException("inference buffer entry of " + data.length + " bytes in an unknown format ("
                    + (data.length == 0 ? "empty" : "format byte " + data[0]) + "); was the changelog written by a"
                    + " newer version?");
        }
        final ByteBuffer buffer = ByteBuffer.wrap(data, 1, data.length - 1);
        final long eventTime = buffer.getLong();
        final byte label = buffer.get();
        final byte[] pixels = new byte[DigitNetwork.PIXELS];
        buffer.get(pixels);
        final String id = new String(data, buffer.position(), buffer.remaining(), StandardCharsets.UTF_8);
        return new DecodedImage(id, pixels, label == NO_LABEL ? null : (int) label, eventTime);
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        // Nothing to configure.
    }

    @Override
    public void close() {
        // Nothing to release.
    }

    @Override
    public Serializer<DecodedImage> serializer() {
        return this;
    }

    @Override
    public Deserializer<DecodedImage> deserializer() {
        return this;
    }
}
