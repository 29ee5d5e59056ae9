package io.digitstream.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class DigitClassifierTest {

    @Test
    void aBatchClassifiesEachImageAsItsOwnForwardPassDoes() {
        final DigitClassifier classifier = new DigitClassifier(DigitNetwork.create(5, 1e-3), null);
        // 45 images run padded to 48: the blank images change nothing and their rows are not returned.
        final int count = 45;
        final byte[] pixels = new byte[count * DigitNetwork.PIXELS];
        new Random(4).nextBytes(pixels);
        final List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            images.add(Arrays.copyOfRange(pixels, i * DigitNetwork.PIXELS, (i + 1) * DigitNetwork.PIXELS));
        }

        final List<Classification> batch = classifier.classify(images);

        assertThat(batch).hasSize(count);
        for (int i = 0; i < count; i++) {
            final float[] alone = classifier.probabilities(pixels, i, 1).getRow(0).toFloatVector();
            assertThat(batch.get(i).probabilities()).containsExactly(alone, offset(1e-6f));
            final int best = batch.get(i).predicted();
            for (final float probability : alone) {
                assertThat(alone[best]).isGreaterThanOrEqualTo(probability);
            }
            assertThat(batch.get(i).confidence()).isEqualTo(alone[best], offset(1e-6f));
        }
    }

    @Test
    void batchesRunInAFewShapesWithAtMostAnEighthOfPadding() {
        final java.util.Set<Integer> shapes = new java.util.TreeSet<>();
        for (int images = 1; images <= 128; images++) {
            final int padded = DigitClassifier.paddedBatch(images);
            shapes.add(padded);
            assertThat(padded).isBetween(images, Math.max(images, images * 9 / 8));
        }
        assertThat(shapes).hasSize(40).contains(1, 16, 48, 64, 120, 128);
        assertThat(DigitClassifier.paddedBatch(45)).isEqualTo(48);
        assertThat(DigitClassifier.paddedBatch(129)).isEqualTo(144);
        assertThat(DigitClassifier.paddedBatch(512)).isEqualTo(512);
    }

    @Test
    void aThreadReleasesTheMemoryItsForwardPassesKeptAndCanClassifyAgain() throws Exception {
        final DigitClassifier classifier = new DigitClassifier(DigitNetwork.create(5, 1e-3), null);
        final List<byte[]> images = List.of(new byte[DigitNetwork.PIXELS], new byte[DigitNetwork.PIXELS]);
        final List<Integer> workspaces = new ArrayList<>();
        final List<Classification> again = new ArrayList<>();
        final Thread thread = new Thread(() -> {
            final List<Classification> first = classifier.classify(images);
            workspaces.add(Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread().size());
            DigitClassifier.releaseThreadMemory();
            workspaces.add(Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread().size());
            again.addAll(classifier.classify(images));
            again.addAll(first);
            DigitClassifier.releaseThreadMemory();
        });
        thread.start();
        thread.join();

        assertThat(workspaces).hasSize(2);
        assertThat(workspaces.get(0)).isPositive();
        assertThat(workspaces.get(1)).isZero();
        assertThat(again).hasSize(4);
        assertThat(again.get(0).probabilities()).containsExactly(again.get(2).probabilities(), offset(1e-6f));
    }
}
