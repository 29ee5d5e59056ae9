package io.digitstream.stream.service;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.digitstream.stream.topology.ClassifiedImages;

/**
 * The latest images classified, for the dashboard's recent predictions: a ring the stream threads
 * write without a lock (a synchronized map cost them time, docs/benchmarks.md), read only when the
 * page asks. It holds most of a second at full load, more than a commit takes.
 */
public final class RecentImages implements ClassifiedImages {

    /** How many of the latest classified images are kept; a power of two. */
    private static final int CAPACITY = 8192;

    private final AtomicReferenceArray<RecentImage> ring = new AtomicReferenceArray<>(CAPACITY);
    private final AtomicLong remembered = new AtomicLong();

    private record RecentImage(String id, byte[] pixels) {
    }

    @Override
    public void classified(final String id, final byte[] pixels) {
        ring.set((int) (remembered.getAndIncrement() & (CAPACITY - 1)), new RecentImage(id, pixels));
    }

    /** The pixels of a recently classified image, or null; the newest image of that id. */
    public byte[] pixels(final String id) {
        final long count = remembered.get();
        for (long i = count - 1; i >= Math.max(0, count - CAPACITY); i--) {
            final RecentImage image = ring.get((int) (i & (CAPACITY - 1)));
            if (image != null && image.id().equals(id)) {
                return image.pixels();
            }
        }
        return null;
    }
}
