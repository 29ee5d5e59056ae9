package io.digitstream.stream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.digitstream.model.Classification;
import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;

class ClassifierPoolTest {

    @Test
    void aFailedStreamThreadsWorkerStopsWhenItsReplacementGetsOne() throws Exception {
        try (ClassifierPool pool = new ClassifierPool(new DigitClassifier(DigitNetwork.create(5, 1e-3), null))) {
            final ClassifierPool.Worker own = pool.forCurrentThread();
            final AtomicReference<ClassifierPool.Worker> failed = new AtomicReference<>();
            final Thread failedThread = new Thread(() -> failed.set(pool.forCurrentThread()));
            failedThread.start();
            failedThread.join();
            assertThat(failed.get().stopped()).isFalse();

            final AtomicReference<ClassifierPool.Worker> replacement = new AtomicReference<>();
            final AtomicReference<List<Classification>> results = new AtomicReference<>();
            final Thread replacementThread = new Thread(() -> {
                replacement.set(pool.forCurrentThread());
                try {
                    results.set(replacement.get().classify(List.of(new byte[DigitNetwork.PIXELS])).get().results());
                } catch (final Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            replacementThread.start();
            replacementThread.join();

            assertThat(failed.get().stopped()).isTrue();
            assertThat(replacement.get()).isNotSameAs(failed.get()).isNotSameAs(own);
            assertThat(results.get()).hasSize(1);
            assertThat(pool.forCurrentThread()).isSameAs(own);
            assertThat(own.stopped()).isFalse();
        }
    }
}
