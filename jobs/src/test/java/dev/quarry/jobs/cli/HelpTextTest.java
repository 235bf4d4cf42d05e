package dev.quarry.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Every flag of every subcommand says in --help what it is. */
class HelpTextTest {
    @Test
    void everyOptionHasADescription() {
        List<String> bare = new ArrayList<>();
        for (CommandLine sub : QuarryCli.commandLine().getSubcommands().values()) {
            for (OptionSpec o : sub.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) continue;
                if (String.join("", o.description()).isBlank()) bare.add(sub.getCommandName() + " " + o.longestName());
            }
        }
        assertEquals(List.of(), bare, "options without a --help description");
    }
}
