package dev.quarry.jobs;

import dev.quarry.jobs.cli.StreamCommand;
import picocli.CommandLine;

/** {@code quarry stream} with the fake engine, run as a separate process by {@link StreamRecoveryITCase}. */
public final class FakeStreamMain {
    public static void main(String[] args) {
        FakeEngine.delayMs = Integer.getInteger("fake.delayMs", 3);
        System.exit(new CommandLine(new StreamCommand().withEngines(FakeEngine.factory())).execute(args));
    }
}
