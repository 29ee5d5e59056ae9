package io.digitstream.stream.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;

import io.digitstream.model.DigitNetwork;
import io.digitstream.model.mnist.MnistDataset;
import io.digitstream.schemas.DigitImage;
import io.digitstream.schemas.JsonSerde;

/** Where the produce command and the demo get their image events. */
public final class ImageSources {

    /** How a source's known labels travel. */
    public enum LabelMode {
        /** In the image event. */
        INLINE,
        /** On digits.labels, after the image. */
        LATE,
        /** Not at all. */
        NONE,
        /** Mostly inline, some late, a few not at all: what the demo shows. */
        MIXED
    }

    /** In MIXED mode: shares of inline and late labels; the rest go unlabeled. */
    static final double MIXED_INLINE = 0.7;
    static final double MIXED_LATE = 0.2;

    /** A PNG named like {@code 7_anything.png} or {@code 7-anything.png} carries its label. */
    private static final JsonSerde<DigitImage> IMAGES = JsonSerde.serdeFor(DigitImage.class);

    private static final Pattern LABELLED_FILE = Pattern.compile("^([0-9])[_-].*");

    private ImageSources() {
    }

    /** How image events carry their pixels: the {@code pixels} number array or {@code pixelsBase64}. */
    public enum Encoding {
        PIXELS, BASE64
    }

    /**
     * The MNIST test images with ids {@code prefix-00000}..., their pixels encoded as {@code encoding}
     * says and their labels sent as {@code mode} says.
     */
    public static List<Outgoing> mnist(final MnistDataset test, final String prefix, final LabelMode mode,
            final long seed, final Encoding encoding) {
        final Random random = new Random(seed);
        final List<Outgoing> out = new ArrayList<>(test.count());
        for (int i = 0; i < test.count(); i++) {
            final byte[] bytes = Arrays.copyOfRange(test.pixels(), i * DigitNetwork.PIXELS,
                    (i + 1) * DigitNetwork.PIXELS);
            final String id = String.format(Locale.ROOT, "%s-%05d", prefix, i);
            out.add(labeled(id, test.label(i), mode, random, label -> encoding == Encoding.BASE64
                    ? DigitImage.ofPixelsBase64(id, bytes, label, null, "mnist-test")
                    : DigitImage.ofPixels(id, unsigned(bytes), label, null, "mnist-test")));
        }
        return out;
    }

    private static int[] unsigned(final byte[] bytes) {
        final int[] values = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            values[i] = bytes[i] & 0xFF;
        }
        return values;
    }

    /** Every {@code *.png} of a directory, id = file name without extension, label from a {@code 7_} prefix. */
    public static List<Outgoing> pngDirectory(final Path dir, final LabelMode mode, final long seed) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("no such directory: " + dir);
        }
        final Random random = new Random(seed);
        final List<Outgoing> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (final Path file : files.filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT)
                    .endsWith(".png")).sorted().toList()) {
                final String name = file.getFileName().toString();
                final String id = name.substring(0, name.length() - ".png".length());
                final String png = Base64.getEncoder().encodeToString(Files.readAllBytes(file));
                final Matcher labeled = LABELLED_FILE.matcher(name);
                final Integer label = labeled.matches() ? Integer.valueOf(labeled.group(1)) : null;
                out.add(label == null ? new Outgoing(id, serialize(DigitImage.ofPng(id, png, null, null, "png")), null)
                        : labeled(id, label, mode, random, l -> DigitImage.ofPng(id, png, l, null, "png")));
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no .png files in " + dir);
        }
        return out;
    }

    /**
     * JSON lines, one image event each, sent as they are (the app validates them); the key is the
     * line's {@code id} when it has one. Lines that are not JSON objects are refused with their number.
     */
    public static List<Outgoing> jsonLines(final InputStream in) {
        final List<Outgoing> out = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int number = 0;
            while ((line = reader.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                final JsonNode json;
                try {
                    json = JsonSerde.MAPPER.readTree(line);
                } catch (final IOException e) {
                    throw new IllegalArgumentException("line " + number + " is not JSON: " + e.getMessage());
                }
                if (!json.isObject()) {
                    throw new IllegalArgumentException("line " + number + " is not a JSON object");
                }
                final String id = json.hasNonNull("id") ? json.get("id").asText() : null;
                out.add(new Outgoing(id, line.getBytes(StandardCharsets.UTF_8), null));
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read standard input: " + e.getMessage(), e);
        }
        return out;
    }

    private static Outgoing labeled(final String id, final int label, final LabelMode mode, final Random random,
            final java.util.function.IntFunction<DigitImage> withLabel) {
        LabelMode effective = mode;
        if (mode == LabelMode.MIXED) {
            final double draw = random.nextDouble();
            effective = draw < MIXED_INLINE ? LabelMode.INLINE
                    : draw < MIXED_INLINE + MIXED_LATE ? LabelMode.LATE : LabelMode.NONE;
        }
        return switch (effective) {
            case INLINE -> new Outgoing(id, serialize(withLabel.apply(label)), null);
            case LATE -> new Outgoing(id, serialize(unlabeled(withLabel.apply(label))), label);
            default -> new Outgoing(id, serialize(unlabeled(withLabel.apply(label))), null);
        };
    }

    private static DigitImage unlabeled(final DigitImage image) {
        return new DigitImage(image.id(), image.pixels(), image.pixelsBase64(), image.png(), null, image.timestamp(),
                image.source());
    }

    private static byte[] serialize(final DigitImage image) {
        return IMAGES.serialize(null, image);
    }
}
