package io.digitstream.trainer;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

import javax.imageio.ImageIO;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;

/** The PNG charts of a report. Needs {@code java.awt.headless=true} on machines without a display. */
final class ReportCharts {

    static final String ACCURACY_CHART = "accuracy.png";
    static final String LOSS_CHART = "loss.png";
    static final String CONFUSION_CHART = "confusion-matrix.png";
    static final String DIGITS_CHART = "test-digits.png";

    private static final int WIDTH = 800;
    private static final int HEIGHT = 500;
    private static final int GRID_COLUMNS = 12;
    private static final int GRID_ROWS = 8;
    private static final int CELL_SCALE = 3;
    private static final int CAPTION_HEIGHT = 16;
    private static final int HEADER_HEIGHT = 26;

    private ReportCharts() {
    }

    /** Training and validation accuracy and loss per epoch. */
    static void learningCurves(final List<EpochStats> history, final Path dir) throws IOException {
        final List<Integer> epochs = history.stream().map(EpochStats::epoch).toList();
        BitmapEncoder.saveBitmap(curve("Accuracy per epoch", "accuracy", epochs, history,
                EpochStats::trainAccuracy, EpochStats::validationAccuracy), dir.resolve(ACCURACY_CHART).toString(),
                BitmapEncoder.BitmapFormat.PNG);
        BitmapEncoder.saveBitmap(curve("Loss per epoch", "cross-entropy loss", epochs, history,
                EpochStats::trainLoss, EpochStats::validationLoss), dir.resolve(LOSS_CHART).toString(),
                BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart curve(final String title, final String yTitle, final List<Integer> epochs,
            final List<EpochStats> history, final ToDoubleFunction<EpochStats> train,
            final ToDoubleFunction<EpochStats> validation) {
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("epoch").yAxisTitle(yTitle).build();
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.addSeries("train", epochs, history.stream().map(s -> train.applyAsDouble(s)).toList())
                .setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries("validation", epochs, history.stream().map(s -> validation.applyAsDouble(s)).toList())
                .setMarker(SeriesMarkers.DIAMOND);
        return chart;
    }

    /** The confusion matrix as a labeled heatmap, counts in every cell. */
    static void confusionMatrix(final int[][] confusion, final Path dir) throws IOException {
        final List<Integer> digits = new ArrayList<>();
        for (int digit = 0; digit < DigitNetwork.CLASSES; digit++) {
            digits.add(digit);
        }
        final List<Number[]> cells = new ArrayList<>();
        int max = 1;
        for (int actual = 0; actual < DigitNetwork.CLASSES; actual++) {
            for (int predicted = 0; predicted < DigitNetwork.CLASSES; predicted++) {
                // x = predicted, y = actual; rows count down from the top like a printed matrix.
                cells.add(new Number[] {predicted, DigitNetwork.CLASSES - 1 - actual, confusion[actual][predicted]});
                max = Math.max(max, confusion[actual][predicted]);
            }
        }
        final List<Integer> actualTopDown = new ArrayList<>(digits);
        java.util.Collections.reverse(actualTopDown);
        final HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(WIDTH)
                .title("Confusion matrix (test set)").xAxisTitle("predicted digit").yAxisTitle("true digit").build();
        chart.getStyler().setShowValue(true);
        chart.getStyler().setMin(0);
        chart.getStyler().setMax(max);
        chart.getStyler().setRangeColors(new Color[] {Color.WHITE, new Color(0xC6DBEF), new Color(0x2171B5),
            new Color(0x08306B)});
        chart.addSeries("count", digits, actualTopDown, cells);
        BitmapEncoder.saveBitmap(chart, dir.resolve(CONFUSION_CHART).toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * A grid of test digits captioned "true/predicted": the first ones of the test set, then the
     * first misclassified ones, which are framed in red.
     */
    static void digitGrid(final MnistDataset test, final int[] predicted, final Path dir) throws IOException {
        final int cells = GRID_COLUMNS * GRID_ROWS;
        final List<Integer> shown = new ArrayList<>();
        final List<Integer> wrong = new ArrayList<>();
        for (int i = 0; i < test.count() && wrong.size() < cells / 2; i++) {
            if (predicted[i] != test.label(i)) {
                wrong.add(i);
            }
        }
        for (int i = 0; shown.size() < cells - wrong.size() && i < test.count(); i++) {
            if (predicted[i] == test.label(i)) {
                shown.add(i);
            }
        }
        shown.addAll(wrong);

        final int side = DigitNetwork.IMAGE_SIDE * CELL_SCALE;
        final int cellHeight = side + CAPTION_HEIGHT;
        final BufferedImage grid = new BufferedImage(GRID_COLUMNS * side, HEADER_HEIGHT + GRID_ROWS * cellHeight,
                BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = grid.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(String.format("Test digits, captioned true/predicted. Misclassified (red): first %d of %d.",
                wrong.size(), countWrong(test, predicted)), 6, HEADER_HEIGHT - 8);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        for (int cell = 0; cell < shown.size(); cell++) {
            final int index = shown.get(cell);
            final int x0 = (cell % GRID_COLUMNS) * side;
            final int y0 = HEADER_HEIGHT + (cell / GRID_COLUMNS) * cellHeight;
            for (int y = 0; y < DigitNetwork.IMAGE_SIDE; y++) {
                for (int x = 0; x < DigitNetwork.IMAGE_SIDE; x++) {
                    final int ink = test.pixels()[index * DigitNetwork.PIXELS + y * DigitNetwork.IMAGE_SIDE + x] & 0xFF;
                    g.setColor(new Color(255 - ink, 255 - ink, 255 - ink));
                    g.fillRect(x0 + x * CELL_SCALE, y0 + y * CELL_SCALE, CELL_SCALE, CELL_SCALE);
                }
            }
            final boolean correct = predicted[index] == test.label(index);
            g.setColor(correct ? new Color(0x1B5E20) : Color.RED);
            g.drawString(test.label(index) + "/" + predicted[index], x0 + 4,
                    y0 + side + CAPTION_HEIGHT - 4);
            if (!correct) {
                g.setStroke(new BasicStroke(2f));
                g.drawRect(x0 + 1, y0 + 1, side - 2, cellHeight - 2);
            }
        }
        g.dispose();
        ImageIO.write(grid, "png", dir.resolve(DIGITS_CHART).toFile());
    }

    private static int countWrong(final MnistDataset test, final int[] predicted) {
        int wrong = 0;
        for (int i = 0; i < test.count(); i++) {
            if (predicted[i] != test.label(i)) {
                wrong++;
            }
        }
        return wrong;
    }
}
