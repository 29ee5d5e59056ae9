package io.digitstream.trainer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.nd4j.evaluation.EvaluationAveraging;
import org.nd4j.evaluation.classification.ConfusionMatrix;
import org.nd4j.evaluation.classification.Evaluation;

import io.digitstream.model.DigitNetwork;

/**
 * The figures a data scientist checks on a test run, as written to {@code report.json} and
 * {@code report.txt}. Per-class and macro figures come from DL4J's {@link Evaluation}; the
 * support-weighted F1 and the most confused pairs are derived from its confusion matrix.
 *
 * @param modelVersion    the evaluated artifact
 * @param images          how many test images
 * @param accuracy        share of correct predictions
 * @param loss            mean cross-entropy
 * @param macroPrecision  unweighted mean over classes
 * @param macroRecall     unweighted mean over classes
 * @param macroF1         unweighted mean over classes
 * @param weightedF1      mean over classes weighted by support
 * @param perClass        one entry per digit
 * @param confusion       {@code confusion[actual][predicted]} counts
 * @param mostConfused    the largest off-diagonal cells, largest first
 */
public record EvaluationReport(
        String modelVersion,
        int images,
        double accuracy,
        double loss,
        double macroPrecision,
        double macroRecall,
        double macroF1,
        double weightedF1,
        List<ClassMetrics> perClass,
        int[][] confusion,
        List<ConfusedPair> mostConfused) {

    /** How many confused pairs a report lists. */
    static final int CONFUSED_PAIRS = 10;

    /** Precision, recall, F1 and support (true count) of one digit. */
    public record ClassMetrics(int digit, double precision, double recall, double f1, int support) {
    }

    /** How often {@code actual} was predicted as {@code predicted}. */
    public record ConfusedPair(int actual, int predicted, int count) {
    }

    public static EvaluationReport from(final String modelVersion, final Evaluation evaluation, final double loss) {
        final ConfusionMatrix<Integer> matrix = evaluation.getConfusionMatrix();
        final int[][] confusion = new int[DigitNetwork.CLASSES][DigitNetwork.CLASSES];
        final List<ClassMetrics> perClass = new ArrayList<>();
        final List<ConfusedPair> pairs = new ArrayList<>();
        int images = 0;
        double weightedF1Sum = 0;
        for (int actual = 0; actual < DigitNetwork.CLASSES; actual++) {
            for (int predicted = 0; predicted < DigitNetwork.CLASSES; predicted++) {
                confusion[actual][predicted] = matrix.getCount(actual, predicted);
                if (actual != predicted && confusion[actual][predicted] > 0) {
                    pairs.add(new ConfusedPair(actual, predicted, confusion[actual][predicted]));
                }
            }
            final int support = matrix.getActualTotal(actual);
            images += support;
            final double f1 = evaluation.f1(actual);
            weightedF1Sum += f1 * support;
            perClass.add(new ClassMetrics(actual, evaluation.precision(actual), evaluation.recall(actual), f1,
                    support));
        }
        pairs.sort(Comparator.comparingInt(ConfusedPair::count).reversed()
                .thenComparingInt(ConfusedPair::actual).thenComparingInt(ConfusedPair::predicted));
        return new EvaluationReport(modelVersion, images, evaluation.accuracy(), loss,
                evaluation.precision(EvaluationAveraging.Macro), evaluation.recall(EvaluationAveraging.Macro),
                evaluation.f1(EvaluationAveraging.Macro), images == 0 ? 0 : weightedF1Sum / images,
                List.copyOf(perClass), confusion, List.copyOf(pairs.subList(0, Math.min(CONFUSED_PAIRS, pairs.size()))));
    }

    /** The report as a person reads it. */
    public String toText() {
        final StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Model %s on %,d test images%n%n", modelVersion, images));
        out.append(String.format(Locale.ROOT, "accuracy     %.4f  (%d errors)%n", accuracy,
                images - correct()));
        out.append(String.format(Locale.ROOT, "loss         %.4f%n", loss));
        out.append(String.format(Locale.ROOT, "macro F1     %.4f   (precision %.4f, recall %.4f)%n", macroF1,
                macroPrecision, macroRecall));
        out.append(String.format(Locale.ROOT, "weighted F1  %.4f%n%n", weightedF1));
        out.append("digit  precision  recall      f1  support\n");
        for (final ClassMetrics c : perClass) {
            out.append(String.format(Locale.ROOT, "%5d  %9.4f  %6.4f  %6.4f  %7d%n", c.digit(), c.precision(),
                    c.recall(), c.f1(), c.support()));
        }
        out.append("\nConfusion matrix (rows: true digit, columns: predicted)\n      ");
        for (int predicted = 0; predicted < DigitNetwork.CLASSES; predicted++) {
            out.append(String.format(Locale.ROOT, "%6d", predicted));
        }
        out.append('\n');
        for (int actual = 0; actual < DigitNetwork.CLASSES; actual++) {
            out.append(String.format(Locale.ROOT, "%6d", actual));
            for (int predicted = 0; predicted < DigitNetwork.CLASSES; predicted++) {
                out.append(String.format(Locale.ROOT, "%6d", confusion[actual][predicted]));
            }
            out.append('\n');
        }
        out.append("\nMost confused (true -> predicted: count)\n");
        for (final ConfusedPair pair : mostConfused) {
            out.append(String.format(Locale.ROOT, "  %d -> %d: %d%n", pair.actual(), pair.predicted(), pair.count()));
        }
        return out.toString();
    }

    /** Images on the diagonal of the confusion matrix. */
    public int correct() {
        int correct = 0;
        for (int digit = 0; digit < DigitNetwork.CLASSES; digit++) {
            correct += confusion[digit][digit];
        }
        return correct;
    }
}
