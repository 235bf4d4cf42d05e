package dev.quarry.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code quarry} command line: one subcommand class per command. */
@Command(name = "quarry", mixinStandardHelpOptions = true, version = "quarry 0.1.0-SNAPSHOT",
        description = "IBM Granite 4.0 inference inside Apache Flink, on DJL's PyTorch engine.",
        subcommands = {
            BenchCommand.class,
            BulkScoreCommand.class,
            StreamCommand.class,
            DemoCommand.class,
            PipelineBenchCommand.class,
            GenerateCommand.class,
            MakeCheckpointCommand.class,
        })
public final class QuarryCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", "true");
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (tests call {@code execute} on it). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new QuarryCli());
        // a mistyped or missing flag: one line naming it (and close matches), not the whole usage text
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            String name = c.getCommandSpec().qualifiedName();
            StringBuilder b = new StringBuilder(name).append(": ").append(ex.getMessage());
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                b.append(" (did you mean ").append(String.join(" or ", u.getSuggestions())).append("?)");
            }
            c.getErr().println(b.append("; see '").append(name).append(" --help'"));
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.UncheckedIOException) {
                line.getErr().println("quarry " + line.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            if (ex instanceof IllegalStateException) {   // e.g. a failed job: the message names the root cause
                line.getErr().println("quarry " + line.getCommandName() + ": " + ex.getMessage());
                if (Boolean.getBoolean("quarry.stacktrace")) ex.printStackTrace(line.getErr());
                else line.getErr().println("(run with QUARRY_JAVA_OPTS=-Dquarry.stacktrace=true for the stack trace)");
                return 1;
            }
            throw ex;
        });
        return cl;
    }
}
