package io.digitstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.digitstream.model.DigitNetwork;

class EvaluationReportTest {

    private static final double TOLERANCE = 1e-9;

    /**
     * 24 images: six 0s and two of every other digit, all right except one 3 read as 5, one 5 read
     * as 3 and one 8 read as 3. Worked by hand:
     * class 3: TP 1, FP 2, FN 1 -> precision 1/3, recall 1/2, F1 0.4;
     * class 5: TP 1, FP 1, FN 1 -> 0.5, 0.5, 0.5; class 8: TP 1, FP 0, FN 1 -> 1, 0.5, 2/3;
     * every other class 1, 1, 1.
     */
    @Test
    void matchesAHandComputedConfusionMatrix() {
        final List<int[]> pairs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pairs.add(new int[] {0, 0});
        }
        for (int digit = 0; digit < DigitNetwork.CLASSES; digit++) {
            pairs.add(new int[] {digit, digit});
            pairs.add(new int[] {digit, digit == 3 ? 5 : digit == 5 ? 3 : digit == 8 ? 3 : digit});
        }

        final EvaluationReport report = EvaluationReport.from("v1", evaluate(pairs), 0.25);

        assertThat(report.images()).isEqualTo(24);
        assertThat(report.correct()).isEqualTo(21);
        assertThat(report.accuracy()).isCloseTo(21.0 / 24, within(TOLERANCE));
        assertThat(report.loss()).isEqualTo(0.25);
        assertThat(report.confusion()[0][0]).isEqualTo(6);
        assertThat(report.confusion()[3][5]).isEqualTo(1);
        assertThat(report.confusion()[5][3]).isEqualTo(1);
        assertThat(report.confusion()[8][3]).isEqualTo(1);
        assertThat(report.confusion()[3][3]).isEqualTo(1);
        assertThat(report.confusion()[1][1]).isEqualTo(2);

        final EvaluationReport.ClassMetrics three = report.perClass().get(3);
        assertThat(three.precision()).isCloseTo(1.0 / 3, within(TOLERANCE));
        assertThat(three.recall()).isCloseTo(0.5, within(TOLERANCE));
        assertThat(three.f1()).isCloseTo(0.4, within(TOLERANCE));
        assertThat(three.support()).isEqualTo(2);
        assertThat(report.perClass().get(8).precision()).isCloseTo(1.0, within(TOLERANCE));
        assertThat(report.perClass().get(8).f1()).isCloseTo(2.0 / 3, within(TOLERANCE));
        assertThat(report.perClass().get(0).support()).isEqualTo(6);

        assertThat(report.macroPrecision()).isCloseTo((7 + 1.0 / 3 + 0.5 + 1) / 10, within(TOLERANCE));
        assertThat(report.macroRecall()).isCloseTo((7 + 1.5) / 10, within(TOLERANCE));
        assertThat(report.macroF1()).isCloseTo((7 + 0.4 + 0.5 + 2.0 / 3) / 10, within(TOLERANCE));
        assertThat(report.weightedF1())
                .isCloseTo((6 + 12 + 2 * 0.4 + 2 * 0.5 + 2 * 2.0 / 3) / 24, within(TOLERANCE));

        assertThat(report.mostConfused()).containsExactly(
                new EvaluationReport.ConfusedPair(3, 5, 1),
                new EvaluationReport.ConfusedPair(5, 3, 1),
                new EvaluationReport.ConfusedPair(8, 3, 1));
        assertThat(report.toText())
                .contains("accuracy     0.8750  (3 errors)")
                .contains("    3     0.3333  0.5000  0.4000        2")
                .contains("  8 -> 3: 1");
    }

    private static Evaluation evaluate(final List<int[]> actualPredicted) {
        final INDArray labels = Nd4j.zeros(DataType.FLOAT, actualPredicted.size(), DigitNetwork.CLASSES);
        final INDArray predictions = Nd4j.zeros(DataType.FLOAT, actualPredicted.size(), DigitNetwork.CLASSES);
        for (int i = 0; i < actualPredicted.size(); i++) {
            labels.putScalar(i, actualPredicted.get(i)[0], 1f);
            predictions.putScalar(i, actualPredicted.get(i)[1], 1f);
        }
        final Evaluation evaluation = new Evaluation(DigitNetwork.CLASSES);
        evaluation.eval(labels, predictions);
        return evaluation;
    }
}
