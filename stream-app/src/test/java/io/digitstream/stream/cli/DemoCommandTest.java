package io.digitstream.stream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.stream.KafkaClusterExtension;
import io.digitstream.stream.TestFixtures;
import io.digitstream.stream.service.AppConfig;

/** The main job's demo, as {@code ./run} starts it, on the test broker with the test model. */
@ExtendWith(KafkaClusterExtension.class)
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void replaysTheTestSetSaysWhenDoneAndThenStaysQuiet() {
        final MnistDataset test = TestFixtures.mnist().test();
        final int[] offline = TestFixtures.offlinePredictions(TestFixtures.classifier(), test);
        int correct = 0;
        for (int i = 0; i < test.count(); i++) {
            correct += offline[i] == test.label(i) ? 1 : 0;
        }
        final Map<String, String> settings = TestFixtures.appSettings(dir, "demo-test");
        final List<String> args = new ArrayList<>(List.of("demo", "--rate", "4000", "--duration", "PT30S",
                "--model", settings.remove(AppConfig.MODEL), "--http-port", settings.remove(AppConfig.HTTP_PORT),
                "--cache-dir", TestFixtures.MNIST_CACHE_DIR.toString()));
        settings.forEach((key, value) -> args.addAll(List.of("--set", key + "=" + value)));

        final String out = TestFixtures.runForOutput(args.toArray(String[]::new));

        final String accuracy = String.format(Locale.ROOT, "%.2f%%", 100.0 * correct / test.count());
        assertThat(out).contains("Replaying 10,000 MNIST test images at 4000/s with model ")
                .contains("Replay done: all 10,000 images classified in ")
                .contains(", accuracy " + accuracy + ". The app keeps running")
                // Other tests' images on the shared broker are classified too, but only the demo's
                // own count towards its accuracy.
                .containsPattern("Stopping: [\\d,]+ images classified, accuracy " + Pattern.quote(accuracy) + "\\.");
        final int done = out.indexOf("Replay done:");
        assertThat(out.substring(0, done).lines().filter(line -> line.startsWith("["))).isNotEmpty();
        // After the replay nothing is classified, so no more summary lines until the demo stops.
        assertThat(out.substring(done).lines().filter(line -> line.startsWith("["))).isEmpty();
    }
}
