package io.digitstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.digitstream.model.Json;
import io.digitstream.model.ModelArtifact;
import io.digitstream.model.ModelMetadata;
import io.digitstream.model.mnist.MnistFile;
import io.digitstream.model.mnist.TestMnist;

class TrainerCliTest {

    @TempDir
    Path dir;

    @Test
    void trainWritesAVersionedArtifactWithReportAndChartsThatEvaluateReproduces() throws Exception {
        final Path models = dir.resolve("models");

        final Run train = run("train", "--epochs", "1", "--train-limit", "4000", "--output", models.toString(),
                "--cache-dir", TestMnist.CACHE_DIR.toString(), "--offline");

        assertThat(train.exitCode).as(train.err).isZero();
        final String version = Files.readString(models.resolve(ModelArtifact.LATEST_FILE)).trim();
        assertThat(version).matches("mnist-cnn-\\d{8}-\\d{6}");
        final Path artifact = models.resolve(version);
        for (final String file : new String[] {"model.zip", "metadata.json", "report.json", "report.txt",
            "history.json", "accuracy.png", "loss.png", "confusion-matrix.png", "test-digits.png"}) {
            assertThat(artifact.resolve(file)).isRegularFile();
        }
        assertThat(ImageIO.read(artifact.resolve("confusion-matrix.png").toFile()).getWidth()).isPositive();
        final ModelMetadata metadata = Json.MAPPER.readValue(artifact.resolve("metadata.json").toFile(),
                ModelMetadata.class);
        assertThat(metadata.version()).isEqualTo(version);
        assertThat(metadata.modelSha256()).isEqualTo(ModelArtifact.sha256(artifact.resolve("model.zip")));
        assertThat(metadata.datasetSha256()).containsEntry("t10k-images-idx3-ubyte", MnistFile.TEST_IMAGES.sha256());
        assertThat(metadata.hyperparameters()).containsEntry("batchSize", 128).containsEntry("learningRate", 0.001);
        assertThat(metadata.epochsRun()).isEqualTo(1);
        assertThat(metadata.bestEpoch()).isEqualTo(1);
        final double accuracy = metadata.testMetrics().get("accuracy");
        assertThat(accuracy).isGreaterThan(0.8);
        final JsonNode report = Json.MAPPER.readTree(artifact.resolve("report.json").toFile());
        assertThat(report.get("images").asInt()).isEqualTo(10_000);
        assertThat(report.get("perClass")).hasSize(10);
        assertThat(report.get("confusion")).hasSize(10);
        assertThat(train.out).contains("test accuracy").contains("peak RSS").contains(version);

        final Run evaluate = run("evaluate", "--model", models.toString(), "--cache-dir",
                TestMnist.CACHE_DIR.toString(), "--offline");

        assertThat(evaluate.exitCode).as(evaluate.err).isZero();
        final JsonNode again = Json.MAPPER.readTree(artifact.resolve("evaluation/report.json").toFile());
        assertThat(again.get("accuracy").asDouble()).isEqualTo(accuracy);
        assertThat(again.get("confusion")).isEqualTo(report.get("confusion"));
        assertThat(artifact.resolve("evaluation/confusion-matrix.png")).isRegularFile();
    }

    @Test
    void badArgumentsGetOneLineSayingWhatToDo() {
        final Run unknown = run("train", "--epochz", "3");
        final Run invalid = run("train", "--validation-fraction", "1.5");

        assertThat(unknown.exitCode).isEqualTo(TrainerCli.EXIT_USAGE);
        assertThat(unknown.err.strip()).isEqualTo(
                "trainer train: Unknown options: '--epochz', '3'. See 'trainer train --help'.");
        assertThat(invalid.exitCode).isEqualTo(TrainerCli.EXIT_USAGE);
        assertThat(invalid.err.strip()).isEqualTo("trainer train: validation fraction must be between 0 and 1 "
                + "(exclusive), got 1.5. See 'trainer train --help'.");
    }

    @Test
    void missingOrCorruptFilesAreReportedWithoutAStackTrace() throws Exception {
        final Path notAModel = Files.createDirectories(dir.resolve("nothing-here"));
        final Path emptyData = Files.createDirectories(dir.resolve("empty"));

        final Run noModel = run("evaluate", "--model", notAModel.toString());
        final Run noData = run("train", "--data-dir", emptyData.toString(), "--cache-dir", emptyData.toString(),
                "--offline");

        assertThat(noModel.exitCode).isEqualTo(TrainerCli.EXIT_FAILURE);
        assertThat(noModel.err).contains("no model artifact at " + notAModel).contains("./run train")
                .doesNotContain("Exception");
        assertThat(noData.exitCode).isEqualTo(TrainerCli.EXIT_FAILURE);
        assertThat(noData.err).contains("MNIST is not available").contains("pass --data-dir DIR")
                .doesNotContain("Exception");
    }

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(final String... args) {
        final PrintStream originalOut = System.out;
        final PrintStream originalErr = System.err;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            final int code = TrainerCli.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }
}
