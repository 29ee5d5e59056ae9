package io.digitstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.NativeBackend;
import io.digitstream.model.mnist.MnistData;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.model.mnist.TestMnist;

class MnistTrainerTest {

    @Test
    void learnsDigitsFromARealMnistSubset() {
        final MnistData mnist = TestMnist.data();
        final TrainingOptions options = TrainingOptions.seedDefaults().withEpochs(2).withTrainLimit(12_000);

        final TrainingResult result = new MnistTrainer(options, TrainingListener.NONE).train(mnist.train());
        final Evaluator.Result onTest = Evaluator.evaluate(new DigitClassifier(result.network(), null),
                mnist.test().limit(1_000));

        assertThat(NativeBackend.convolutionsUseOneDnn(result.network())).isTrue();
        assertThat(result.epochsRun()).isEqualTo(2);
        assertThat(result.history().get(1).trainLoss()).isLessThan(result.history().get(0).trainLoss());
        assertThat(onTest.accuracy()).isGreaterThan(0.93);
    }

    @Test
    void sameSeedAndDataGiveTheSameMetrics() {
        final MnistData mnist = TestMnist.data();
        final TrainingOptions options = TrainingOptions.seedDefaults().withEpochs(1).withTrainLimit(3_000);

        final TrainingResult first = new MnistTrainer(options, TrainingListener.NONE).train(mnist.train());
        final TrainingResult second = new MnistTrainer(options, TrainingListener.NONE).train(mnist.train());

        assertThat(second.history().get(0).trainLoss()).isEqualTo(first.history().get(0).trainLoss());
        assertThat(second.history().get(0).validationAccuracy()).isEqualTo(first.history().get(0).validationAccuracy());
        assertThat(second.network().params()).isEqualTo(first.network().params());
    }

    @Test
    void augmentationMovesInkButKeepsTheDigit() {
        final MnistDataset sample = TestMnist.data().test().slice(0, 50);
        final byte[] pixels = sample.pixels().clone();

        new Augmenter(1).augment(pixels, sample.count());

        assertThat(pixels).isNotEqualTo(sample.pixels());
        for (int i = 0; i < sample.count(); i++) {
            final double before = ink(sample.pixels(), i);
            final double after = ink(pixels, i);
            // Shifts of up to 2 px and small rotations keep most of a centred digit's ink in frame.
            assertThat(after).isBetween(0.75 * before, 1.1 * before);
        }
    }

    private static double ink(final byte[] pixels, final int image) {
        double sum = 0;
        for (int p = 0; p < io.digitstream.model.DigitNetwork.PIXELS; p++) {
            sum += pixels[image * io.digitstream.model.DigitNetwork.PIXELS + p] & 0xFF;
        }
        return sum;
    }
}
