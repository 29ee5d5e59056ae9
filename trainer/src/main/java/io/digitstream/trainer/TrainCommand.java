package io.digitstream.trainer;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.type.TypeReference;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.DigitNetwork;
import io.digitstream.model.Json;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelMetadata;
import io.digitstream.model.SelfTest;
import io.digitstream.model.mnist.MnistData;
import io.digitstream.model.mnist.MnistDataset;

/** {@code trainer train}: trains, evaluates on the test set and writes a versioned artifact with its report. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains the seed CNN on MNIST and evaluates it on the 10,000 test images.",
            "Writes models/<version>/ with model.zip, metadata.json, report.json, report.txt, history.json",
            "and PNG charts, and names that version in models/LATEST."})
final class TrainCommand implements Callable<Integer> {

    private static final DateTimeFormatter VERSION_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    private static final double MIB = 1024.0 * 1024.0;

    @Spec
    private CommandSpec spec;

    @Mixin
    private DataOptions data;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "models",
            description = "Models directory; each run writes a new version under it (default: ${DEFAULT-VALUE}).")
    private Path output;

    @Option(names = "--epochs", defaultValue = "" + TrainingOptions.DEFAULT_EPOCHS,
            description = "Most epochs to train (default: ${DEFAULT-VALUE}).")
    private int epochs;

    @Option(names = "--batch-size", defaultValue = "" + TrainingOptions.DEFAULT_BATCH_SIZE,
            description = "Images per gradient step (default: ${DEFAULT-VALUE}).")
    private int batchSize;

    @Option(names = "--learning-rate", defaultValue = "" + TrainingOptions.DEFAULT_LEARNING_RATE,
            description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    private double learningRate;

    @Option(names = "--seed", defaultValue = "" + TrainingOptions.DEFAULT_SEED,
            description = "Random seed: same seed and data give the same model (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--validation-fraction", defaultValue = "" + TrainingOptions.DEFAULT_VALIDATION_FRACTION,
            description = "Share of the training set held out for validation (default: ${DEFAULT-VALUE}).")
    private double validationFraction;

    @Option(names = "--early-stopping-patience", defaultValue = "" + TrainingOptions.DEFAULT_EARLY_STOPPING_PATIENCE,
            description = "Stop after this many epochs without better validation accuracy; 0 = off "
                    + "(default: ${DEFAULT-VALUE}).")
    private int earlyStoppingPatience;

    @Option(names = "--lr-patience", defaultValue = "" + TrainingOptions.DEFAULT_LR_PLATEAU_PATIENCE,
            description = "Cut the learning rate after this many epochs without lower validation loss; 0 = off "
                    + "(default: ${DEFAULT-VALUE}).")
    private int lrPatience;

    @Option(names = "--lr-factor", defaultValue = "" + TrainingOptions.DEFAULT_LR_PLATEAU_FACTOR,
            description = "Multiply the learning rate by this on a plateau (default: ${DEFAULT-VALUE}).")
    private double lrFactor;

    @Option(names = "--min-learning-rate", defaultValue = "" + TrainingOptions.DEFAULT_MIN_LEARNING_RATE,
            description = "Floor for learning-rate cuts (default: ${DEFAULT-VALUE}).")
    private double minLearningRate;

    @Option(names = "--no-keep-best", negatable = false,
            description = "Keep the last epoch's weights instead of the best validation epoch's.")
    private boolean lastEpochWeights;

    @Option(names = "--augment",
            description = "Train on randomly shifted (up to 2 px) and rotated (up to 10 degrees) images.")
    private boolean augment;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training images, for a quick run (default: all).")
    private int trainLimit;

    @Mixin
    private PublishOptions publish;

    @Override
    public Integer call() throws Exception {
        final TrainingOptions options = new TrainingOptions(epochs, batchSize, learningRate, seed, validationFraction,
                earlyStoppingPatience, lrPatience, lrFactor, minLearningRate, !lastEpochWeights, augment, trainLimit);
        final MnistData mnist = data.load();

        final TrainingResult result = new MnistTrainer(options, ConsoleProgress.forThisProcess()).train(mnist.train());

        final Instant created = Instant.now();
        final String version = "mnist-cnn-" + VERSION_TIME.format(created);
        final ModelMetadata draft = new ModelMetadata(version, created, null, null, mnist.datasetSha256(),
                Json.MAPPER.convertValue(options, new TypeReference<Map<String, Object>>() { }),
                result.epochsRun(), result.bestEpoch(), Map.of());
        final DigitClassifier trained = DigitClassifier.forInference(result.network(), draft);
        final Evaluator.Result onTest = Evaluator.evaluate(trained, mnist.test());
        final EvaluationReport report = EvaluationReport.from(version, onTest.evaluation(), onTest.loss());

        final Map<String, Double> testMetrics = new LinkedHashMap<>();
        testMetrics.put("accuracy", report.accuracy());
        testMetrics.put("macroF1", report.macroF1());
        testMetrics.put("weightedF1", report.weightedF1());
        testMetrics.put("loss", report.loss());
        final Path dir = output.resolve(version);
        ModelArtifact.save(dir, result.network(), new ModelMetadata(version, created, null, null,
                draft.datasetSha256(), draft.hyperparameters(), draft.epochsRun(), draft.bestEpoch(), testMetrics));
        SelfTest.of(trained, firstImages(mnist.test(), SelfTest.IMAGES)).write(dir);
        ReportWriter.write(dir, report, result.history(), mnist.test(), onTest.predicted());
        ModelArtifact.markLatest(output, version);

        printSummary(spec.commandLine().getOut(), result, report, onTest.imagesPerSecond(), dir, mnist.source());
        publish.publishIfAsked(dir, spec.commandLine().getOut());
        return 0;
    }

    /** The first {@code count} images of a dataset, each its own array. */
    static List<byte[]> firstImages(final MnistDataset data, final int count) {
        final List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < Math.min(count, data.count()); i++) {
            images.add(Arrays.copyOfRange(data.pixels(), i * DigitNetwork.PIXELS, (i + 1) * DigitNetwork.PIXELS));
        }
        return images;
    }

    private static void printSummary(final PrintWriter out, final TrainingResult result, final EvaluationReport report,
            final double inferenceImagesPerSecond, final Path dir, final String source) {
        out.println();
        out.println(ReportWriter.historyTable(result.history()));
        out.printf(Locale.ROOT, "%-26s %s%n", "data", source);
        out.printf(Locale.ROOT, "%-26s %d%s%n", "epochs run", result.epochsRun(),
                result.stoppedEarly() ? " (stopped early)" : "");
        out.printf(Locale.ROOT, "%-26s %d (best validation accuracy)%n", "best epoch", result.bestEpoch());
        out.printf(Locale.ROOT, "%-26s %.4f (%d of %d wrong)%n", "test accuracy", report.accuracy(),
                report.images() - report.correct(), report.images());
        out.printf(Locale.ROOT, "%-26s %.4f%n", "test macro F1", report.macroF1());
        out.printf(Locale.ROOT, "%-26s %.1f s%n", "seconds per epoch (mean)", result.meanEpochSeconds());
        out.printf(Locale.ROOT, "%-26s %.0f%n", "training images/s", result.meanImagesPerSecond());
        out.printf(Locale.ROOT, "%-26s %.0f%n", "test inference images/s", inferenceImagesPerSecond);
        out.printf(Locale.ROOT, "%-26s %.0f MiB%n", "peak RSS", PeakMemory.peakRssBytes() / MIB);
        out.printf(Locale.ROOT, "%-26s %s%n", "model artifact", dir.toAbsolutePath().normalize());
        out.flush();
    }
}
