package io.digitstream.trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import io.digitstream.model.Json;
import io.digitstream.model.mnist.MnistDataset;

/** Writes a report directory: report.json, report.txt, history.json and the PNG charts. */
final class ReportWriter {

    static final String REPORT_JSON = "report.json";
    static final String REPORT_TEXT = "report.txt";
    static final String HISTORY_JSON = "history.json";

    private ReportWriter() {
    }

    /**
     * @param history the training epochs, or an empty list for a re-evaluation (no learning curves)
     */
    static void write(final Path dir, final EvaluationReport report, final List<EpochStats> history,
            final MnistDataset test, final int[] predicted) throws IOException {
        Files.createDirectories(dir);
        Json.MAPPER.writeValue(dir.resolve(REPORT_JSON).toFile(), report);
        final StringBuilder text = new StringBuilder(report.toText());
        if (!history.isEmpty()) {
            Json.MAPPER.writeValue(dir.resolve(HISTORY_JSON).toFile(), history);
            text.append(System.lineSeparator()).append(historyTable(history));
            ReportCharts.learningCurves(history, dir);
        }
        Files.writeString(dir.resolve(REPORT_TEXT), text);
        ReportCharts.confusionMatrix(report.confusion(), dir);
        ReportCharts.digitGrid(test, predicted, dir);
    }

    static String historyTable(final List<EpochStats> history) {
        final StringBuilder out = new StringBuilder(
                "epoch  train loss  train acc  val loss  val acc  learning rate  seconds  images/s\n");
        for (final EpochStats s : history) {
            out.append(String.format(Locale.ROOT, "%5d  %10.4f  %9.4f  %8.4f  %7.4f  %13.2g  %7.1f  %8.0f%n",
                    s.epoch(), s.trainLoss(), s.trainAccuracy(), s.validationLoss(), s.validationAccuracy(),
                    s.learningRate(), s.seconds(), s.imagesPerSecond()));
        }
        return out.toString();
    }
}
