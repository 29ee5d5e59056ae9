package io.digitstream.model.mnist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.digitstream.model.DigitNetwork;

class MnistDatasetTest {

    @TempDir
    Path dir;

    @Test
    void readsImagesAndLabelsRawAndGzipped() throws IOException {
        final byte[] pixels = new byte[2 * DigitNetwork.PIXELS];
        pixels[0] = (byte) 255;
        pixels[DigitNetwork.PIXELS + 783] = 7;
        final Path images = write("images.gz", imagesFile(2, 28, 28, pixels), true);
        final Path labels = write("labels", labelsFile(2, new byte[] {3, 9}), false);

        final MnistDataset data = MnistDataset.read(images, labels);

        assertThat(data.count()).isEqualTo(2);
        assertThat(data.label(0)).isEqualTo(3);
        assertThat(data.label(1)).isEqualTo(9);
        assertThat(data.pixels()[0] & 0xFF).isEqualTo(255);
        assertThat(data.pixels()[DigitNetwork.PIXELS + 783]).isEqualTo((byte) 7);
    }

    @Test
    void rejectsWrongMagicNumberNamingTheFile() throws IOException {
        final Path labels = write("labels", labelsFile(1, new byte[] {1}), false);

        assertThatThrownBy(() -> MnistDataset.read(labels, labels))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(labels.toString())
                .hasMessageContaining("not an IDX image file")
                .hasMessageContaining("0x00000801");
    }

    @Test
    void rejectsTruncatedImageFile() throws IOException {
        final byte[] whole = imagesFile(3, 28, 28, new byte[3 * DigitNetwork.PIXELS]);
        final Path images = write("images", java.util.Arrays.copyOf(whole, whole.length - 100), false);
        final Path labels = write("labels", labelsFile(3, new byte[3]), false);

        assertThatThrownBy(() -> MnistDataset.read(images, labels))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(images.toString())
                .hasMessageContaining("truncated");
    }

    @Test
    void rejectsImageAndLabelCountsThatDisagree() throws IOException {
        final Path images = write("images", imagesFile(2, 28, 28, new byte[2 * DigitNetwork.PIXELS]), false);
        final Path labels = write("labels", labelsFile(3, new byte[3]), false);

        assertThatThrownBy(() -> MnistDataset.read(images, labels))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining("2 images")
                .hasMessageContaining("3 labels");
    }

    @Test
    void rejectsImagesThatAreNot28By28() throws IOException {
        final Path images = write("images", imagesFile(1, 32, 32, new byte[32 * 32]), false);
        final Path labels = write("labels", labelsFile(1, new byte[1]), false);

        assertThatThrownBy(() -> MnistDataset.read(images, labels))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining("32x32");
    }

    @Test
    void rejectsLabelsOutsideZeroToNine() throws IOException {
        final Path images = write("images", imagesFile(1, 28, 28, new byte[DigitNetwork.PIXELS]), false);
        final Path labels = write("labels", labelsFile(1, new byte[] {12}), false);

        assertThatThrownBy(() -> MnistDataset.read(images, labels))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining("label 12");
    }

    @Test
    void readsTheRealMnistSets() {
        final MnistData mnist = TestMnist.data();

        assertThat(mnist.train().count()).isEqualTo(60_000);
        assertThat(mnist.test().count()).isEqualTo(10_000);
        // The first test image is a 7, the first training image a 5.
        assertThat(mnist.test().label(0)).isEqualTo(7);
        assertThat(mnist.train().label(0)).isEqualTo(5);
    }

    static byte[] imagesFile(final int count, final int rows, final int cols, final byte[] pixels) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MnistDataset.IMAGES_MAGIC);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(cols);
        out.write(pixels);
        return bytes.toByteArray();
    }

    static byte[] labelsFile(final int count, final byte[] labels) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MnistDataset.LABELS_MAGIC);
        out.writeInt(count);
        out.write(labels);
        return bytes.toByteArray();
    }

    private Path write(final String name, final byte[] content, final boolean gzip) throws IOException {
        final Path file = dir.resolve(name);
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(content);
        }
        return file;
    }
}
