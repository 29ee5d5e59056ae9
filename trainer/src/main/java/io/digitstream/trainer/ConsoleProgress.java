package io.digitstream.trainer;

import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows training progress: a bar per epoch with ETA and running loss on a terminal, a log line
 * every quarter epoch otherwise (CI logs, pipes).
 */
final class ConsoleProgress implements TrainingListener {

    private static final Logger log = LoggerFactory.getLogger(ConsoleProgress.class);
    private static final int LOG_STEPS_PER_EPOCH = 4;
    private static final int UPDATE_MILLIS = 300;

    private final boolean terminal;
    private ProgressBar bar;
    private int epoch;
    private int maxEpochs;
    private int batches;
    private double lossSum;

    ConsoleProgress(final boolean terminal) {
        this.terminal = terminal;
    }

    static ConsoleProgress forThisProcess() {
        return new ConsoleProgress(System.console() != null);
    }

    @Override
    public void epochStarted(final int epoch, final int maxEpochs, final int batches) {
        this.epoch = epoch;
        this.maxEpochs = maxEpochs;
        this.batches = batches;
        this.lossSum = 0;
        if (terminal) {
            bar = new ProgressBarBuilder()
                    .setTaskName(String.format(Locale.ROOT, "Epoch %d/%d", epoch, maxEpochs))
                    .setInitialMax(batches)
                    .setUnit(" batches", 1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setUpdateIntervalMillis(UPDATE_MILLIS)
                    .build();
        }
    }

    @Override
    public void batchFinished(final int batch, final double loss) {
        lossSum += loss;
        if (bar != null) {
            bar.step();
            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f", lossSum / batch));
        } else if (batch % Math.max(1, batches / LOG_STEPS_PER_EPOCH) == 0 && batch < batches) {
            log.info("Epoch {}/{}: {}/{} batches, loss {}", epoch, maxEpochs, batch, batches,
                    String.format(Locale.ROOT, "%.4f", lossSum / batch));
        }
    }

    @Override
    public void epochFinished(final EpochStats stats, final String note) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        log.info(String.format(Locale.ROOT,
                "Epoch %d/%d: loss %.4f, accuracy %.4f, val_loss %.4f, val_accuracy %.4f, %.1f s (%.0f images/s)%s",
                stats.epoch(), maxEpochs, stats.trainLoss(), stats.trainAccuracy(), stats.validationLoss(),
                stats.validationAccuracy(), stats.seconds(), stats.imagesPerSecond(),
                note.isEmpty() ? "" : " - " + note));
    }
}
