package io.digitstream.stream.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.digitstream.model.DigitNetwork;
import io.digitstream.schemas.DecodedImage;

/**
 * The inference buffer's own binary form of a decoded image: it never leaves the app (only its
 * changelog topic holds it), and every image passes through it, so it is a plain copy of the 784
 * bytes rather than JSON. Layout: format byte, event time (8 bytes), label (1 byte, -1 when
 * unknown), the pixels, then the id in UTF-8.
 */
public final class DecodedImageSerde extends BinaryStateSerde<DecodedImage> {

    private static final byte NO_LABEL = -1;
    private static final int HEADER = Long.BYTES + 1;

    public DecodedImageSerde() {
        super((byte) 1, 1 + HEADER + DigitNetwork.PIXELS, "inference buffer entry");
    }

    @Override
    ByteBuffer write(final DecodedImage image) {
        final byte[] id = image.id().getBytes(StandardCharsets.UTF_8);
        return allocate(HEADER + DigitNetwork.PIXELS + id.length)
                .putLong(image.eventTime())
                .put(image.label() == null ? NO_LABEL : image.label().byteValue())
                .put(image.pixels())
                .put(id);
    }

    @Override
    DecodedImage read(final ByteBuffer buffer) {
        final long eventTime = buffer.getLong();
        final byte label = buffer.get();
        final byte[] pixels = new byte[DigitNetwork.PIXELS];
        buffer.get(pixels);
        final String id = new String(buffer.array(), buffer.position(), buffer.remaining(), StandardCharsets.UTF_8);
        return new DecodedImage(id, pixels, label == NO_LABEL ? null : (int) label, eventTime);
    }
}
