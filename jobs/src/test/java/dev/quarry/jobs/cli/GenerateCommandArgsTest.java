package dev.quarry.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GenerateCommandArgsTest {
    @TempDir
    Path dir;

    @Test
    void badIdsFileIsNamedBeforeAnyModelLoads() throws Exception {
        Path f = dir.resolve("prompts.txt");
        Files.writeString(f, "1,2,3\n4,x,6\n");
        CommandLine cl = QuarryCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute("generate", "--model", dir.resolve("none").toString(), "--ids-file", f.toString());
        assertEquals(2, rc);
        assertTrue(err.toString().contains("prompts.txt:2") && err.toString().contains("'x'"), err.toString());
    }

    @Test
    void promptAndIdsAreExclusive() {
        CommandLine cl = QuarryCli.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute("generate", "--model", "m", "--prompt", "hi", "--ids", "1,2"));
        assertArrayEquals(new int[] {1, 22, 3}, GenerateCommand.parseIds("1, 22,3", "x"));
    }

    @Test
    void dtypeDefaultsByDeviceAsTheOtherCommands() {
        GenerateCommand cpu = new GenerateCommand();
        new CommandLine(cpu).parseArgs("--model", "m", "--prompt", "hi");
        assertEquals("f32", cpu.engineOptions().dtype());
        GenerateCommand cuda = new GenerateCommand();
        new CommandLine(cuda).parseArgs("--model", "m", "--prompt", "hi", "--device", "cuda:0");
        assertEquals("bf16", cuda.engineOptions().dtype());
        GenerateCommand given = new GenerateCommand();
        new CommandLine(given).parseArgs("--model", "m", "--prompt", "hi", "--device", "cuda:0", "--dtype", "f32");
        assertEquals("f32", given.engineOptions().dtype());
    }
}
