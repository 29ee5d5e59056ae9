package io.digitstream.trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import io.digitstream.model.DigitClassifier;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.mnist.MnistData;

/** {@code trainer evaluate}: re-evaluates any model artifact on the MNIST test set. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluates a model artifact on the 10,000 MNIST test images and writes the same report "
                + "as training (report.json, report.txt, confusion matrix and digit charts).")
final class EvaluateCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private DataOptions data;

    @Option(names = "--model", paramLabel = "PATH", defaultValue = "models",
            description = "An artifact directory, its model.zip, or a models directory (its LATEST version) "
                    + "(default: ${DEFAULT-VALUE}).")
    private Path model;

    @Option(names = "--output", paramLabel = "DIR",
            description = "Where to write the report (default: the artifact's evaluation/ subdirectory).")
    private Path output;

    @Override
    public Integer call() throws Exception {
        final DigitClassifier classifier = DigitClassifier.load(model);
        final Path artifactDir = ModelArtifact.resolve(model);
        final MnistData mnist = data.load();
        final Evaluator.Result onTest = Evaluator.evaluate(classifier, mnist.test());
        final EvaluationReport report = EvaluationReport.from(classifier.modelVersion(), onTest.evaluation(),
                onTest.loss());
        final Path dir = output != null ? output : artifactDir.resolve("evaluation");
        ReportWriter.write(dir, report, List.of(), mnist.test(), onTest.predicted());

        final var out = spec.commandLine().getOut();
        out.println(report.toText());
        out.printf(Locale.ROOT, "%-26s %.0f%n", "inference images/s", onTest.imagesPerSecond());
        out.printf(Locale.ROOT, "%-26s %s%n", "report", dir.toAbsolutePath().normalize());
        out.flush();
        return 0;
    }
}
