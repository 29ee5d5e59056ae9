package io.digitstream.trainer;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.type.TypeReference;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

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
import io.digitstream.schemas.Topics;

/** {@code trainer train}: trains, evaluates on the test set and writes a versioned artifact with its report. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains the seed CNN on MNIST (or, with --from-kafka, on the labeled images on Kafka) and",
            "evaluates it on the 10,000 MNIST test images. Writes models/<version>/ with model.zip, metadata.json,",
            "self-test.json, report.json, report.txt, history.json, PNG charts (and training-data.json from Kafka),",
            "names that version in models/LATEST, and with --publish sends it to the running stream apps."})
final class TrainCommand implements Callable<Integer> {

    private static final DateTimeFormatter VERSION_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    private static final double MIB = 1024.0 * 1024.0;
    /** What a model trained from Kafka learned from: topics, partitions, offsets, counts per class. */
    static final String TRAINING_DATA_FILE = "training-data.json";

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

    @Option(names = "--from-kafka", description = "Train on the labeled image events on " + Topics.IMAGES
            + " (labels inline or from " + Topics.LABELS + ") instead of the MNIST training set.")
    private boolean fromKafka;

    @Option(names = "--kafka-until", paramLabel = "TIME", defaultValue = "now",
            description = "With --from-kafka: read the records written before this ISO-8601 instant, e.g."
                    + " 2026-12-07T10:00:00Z (default: ${DEFAULT-VALUE}).")
    private String kafkaUntil;

    @Option(names = "--mix-mnist", paramLabel = "N", defaultValue = "0",
            description = "With --from-kafka: add the first N MNIST training images (default: ${DEFAULT-VALUE}).")
    private int mixMnist;

    @Option(names = "--fine-tune", paramLabel = "VERSION",
            description = "Start from this published model (or 'live', the one serving) instead of a new"
                    + " network; use a lower --learning-rate, e.g. 0.0001.")
    private String fineTune;

    @Mixin
    private KafkaOptions kafka;

    @Override
    public Integer call() throws Exception {
        final TrainingOptions options = new TrainingOptions(epochs, batchSize, learningRate, seed, validationFraction,
                earlyStoppingPatience, lrPatience, lrFactor, minLearningRate, !lastEpochWeights, augment, trainLimit);
        final MnistData mnist = data.load();

        final TrainingData data = trainingData(mnist);
        final MultiLayerNetwork initial = fineTune == null ? null : startingNetwork();

        final TrainingResult result = new MnistTrainer(options, ConsoleProgress.forThisProcess())
                .train(data.images(), initial);

        final Instant created = Instant.now();
        final String version = "mnist-cnn-" + VERSION_TIME.format(created);
        final Map<String, Object> hyperparameters = new LinkedHashMap<>(
                Json.MAPPER.convertValue(options, new TypeReference<Map<String, Object>>() { }));
        hyperparameters.put("data", data.source());
        if (fineTune != null) {
            hyperparameters.put("fineTunedFrom", fineTune);
        }
        final ModelMetadata draft = new ModelMetadata(version, created, null, null, mnist.datasetSha256(),
                hyperparameters, result.epochsRun(), result.bestEpoch(), Map.of());
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
        if (data.kafka() != null) {
            Json.MAPPER.writeValue(dir.resolve(TRAINING_DATA_FILE).toFile(), data.kafka());
        }
        ReportWriter.write(dir, report, result.history(), mnist.test(), onTest.predicted());
        ModelArtifact.markLatest(output, version);

        printSummary(spec.commandLine().getOut(), result, report, onTest.imagesPerSecond(), dir, data.source());
        kafka.publishIfAsked(dir, spec.commandLine().getOut());
        return 0;
    }

    /** What the network learns from: MNIST's training set, or labeled images from Kafka (and some of MNIST). */
    private record TrainingData(MnistDataset images, String source, KafkaTrainingData.Report kafka) {
    }

    private TrainingData trainingData(final MnistData mnist) {
        if (!fromKafka) {
            return new TrainingData(mnist.train(), mnist.source(), null);
        }
        final Instant until;
        try {
            until = "now".equals(kafkaUntil) ? Instant.now() : Instant.parse(kafkaUntil);
        } catch (final DateTimeParseException e) {
            throw new IllegalArgumentException("--kafka-until must be 'now' or an ISO-8601 instant such as"
                    + " 2026-12-07T10:00:00Z, got '" + kafkaUntil + "'", e);
        }
        final KafkaTrainingData.Data read = KafkaTrainingData.read(kafka.clientConfig(), until);
        if (read.dataset().count() == 0) {
            throw new IllegalStateException("no labeled images on " + Topics.IMAGES + " at " + kafka.bootstrapServers
                    + " before " + until + "; produce some with ./run stream-app produce");
        }
        final KafkaTrainingData.Report report = read.report();
        final String source = String.format(Locale.ROOT, "%d labeled images from %s at %s before %s%s", report.images(),
                Topics.IMAGES, kafka.bootstrapServers, until, mixMnist > 0 ? " and " + Math.min(mixMnist,
                        mnist.train().count()) + " from MNIST (" + mnist.source() + ")" : "");
        // MNIST first: the validation set is split off the end, so it is the user's own images.
        final MnistDataset images = mixMnist > 0
                ? concat(mnist.train().limit(Math.min(mixMnist, mnist.train().count())), read.dataset())
                : read.dataset();
        return new TrainingData(images, source, report);
    }

    /** The network of a published release, to train further. */
    private MultiLayerNetwork startingNetwork() throws IOException {
        final Path directory = Files.createTempDirectory("fine-tune-");
        try {
            kafka.releases().download(fineTune, directory);
            return ModelArtifact.load(directory).network();
        } finally {
            try (var files = Files.walk(directory)) {
                for (final Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    static MnistDataset concat(final MnistDataset first, final MnistDataset second) {
        final byte[] pixels = Arrays.copyOf(first.pixels(), first.pixels().length + second.pixels().length);
        System.arraycopy(second.pixels(), 0, pixels, first.pixels().length, second.pixels().length);
        final byte[] labels = Arrays.copyOf(first.labels(), first.labels().length + second.labels().length);
        System.arraycopy(second.labels(), 0, labels, first.labels().length, second.labels().length);
        return new MnistDataset(pixels, labels, first.count() + second.count());
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
