package io.digitstream.trainer;

import java.io.PrintWriter;
import java.io.UncheckedIOException;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import io.digitstream.model.ModelArtifactException;
import io.digitstream.model.mnist.IdxFormatException;
import io.digitstream.model.mnist.MnistUnavailableException;

/** The {@code trainer} command line: {@code train} and {@code evaluate}. */
@Command(name = "trainer", mixinStandardHelpOptions = true, version = "trainer 0.1.0",
        description = "Trains the MNIST digit CNN and evaluates model artifacts.",
        subcommands = {TrainCommand.class, EvaluateCommand.class})
public final class TrainerCli {

    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    public static void main(final String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code, for main and for tests. */
    public static int run(final String... args) {
        System.setProperty("java.awt.headless", "true");
        final CommandLine cli = new CommandLine(new TrainerCli());
        cli.setParameterExceptionHandler(TrainerCli::usageError);
        cli.setExecutionExceptionHandler(TrainerCli::executionError);
        return cli.execute(args);
    }

    private static int usageError(final CommandLine.ParameterException e, final String[] args) {
        final CommandLine command = e.getCommandLine();
        command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + e.getMessage()
                + ". See '" + command.getCommandSpec().qualifiedName() + " --help'.");
        return EXIT_USAGE;
    }

    private static int executionError(final Exception e, final CommandLine command,
            final CommandLine.ParseResult parseResult) {
        final PrintWriter err = command.getErr();
        final String name = command.getCommandSpec().qualifiedName();
        if (e instanceof IllegalArgumentException) {
            err.println(name + ": " + e.getMessage() + ". See '" + name + " --help'.");
            return EXIT_USAGE;
        }
        if (e instanceof MnistUnavailableException || e instanceof IdxFormatException
                || e instanceof ModelArtifactException || e instanceof UncheckedIOException
                || e instanceof IllegalStateException) {
            err.println(name + ": " + e.getMessage());
            return EXIT_FAILURE;
        }
        err.println(name + ": unexpected failure, please report it with this trace:");
        e.printStackTrace(err);
        return EXIT_FAILURE;
    }
}
