package io.digitstream.stream.topology;

import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.internals.CachingKeyValueStore;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * Makes a cached, changelogged store drop the delete of a key that never reached its changelog.
 * Its cache writes a tombstone for every key deleted since the last commit, also for one put
 * after that commit; most of the inference buffer's images are, so most of its changelog's records
 * were such tombstones, each sent in the transaction, kept by the broker and read back by every
 * restore (docs/benchmarks.md). Kafka
 * Streams skips them for stores with a flush listener, which its own tables have, so the store
 * gets one that does nothing else. Reached through Kafka Streams' internal classes; a store not
 * layered as expected is left as it is (tombstones and all).
 */
final class UnloggedDeletes {

    private UnloggedDeletes() {
    }

    static void skip(final StateStore store) {
        StateStore layer = store;
        while (layer instanceof WrappedStateStore<?, ?, ?> wrapper) {
            if (layer instanceof CachingKeyValueStore caching) {
                caching.setFlushListener(flushed -> { }, false);
                return;
            }
            layer = wrapper.wrapped();
        }
    }
}
