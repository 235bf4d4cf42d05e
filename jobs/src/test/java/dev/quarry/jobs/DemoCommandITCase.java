package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultFiles;
import dev.quarry.connectors.testing.FlinkTestCluster;
import dev.quarry.jobs.cli.DemoCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Timeout(300)
class DemoCommandITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    @Test
    void demoPipelineOnAFakeEngineFromACleanDirectory(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("model");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "{}");
        Files.writeString(model.resolve("tokenizer.json"), "{}"); // a checkpoint directory by its files (the fake engine reads none)
        Files.writeString(model.resolve("model.safetensors"), "");
        DemoCommand demo = new DemoCommand();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        setField(demo, "engines", FakeEngine.factory());
        setField(demo, "out", new PrintStream(buf, true, StandardCharsets.UTF_8));
        Path out = tmp.resolve("clean-workdir").resolve("demo-out");
        int code = new CommandLine(demo).execute("--output", out.toString(), "--model", model.toString(), "--no-progress");
        String printed = buf.toString(StandardCharsets.UTF_8);
        System.err.println(printed);
        assertEquals(0, code, printed);
        assertEquals(300, ResultFiles.stats(new org.apache.flink.core.fs.Path(out.resolve("classify").toUri())).rows());
        assertEquals(300, ResultFiles.stats(new org.apache.flink.core.fs.Path(out.resolve("summarize").toUri())).rows());
        assertTrue(printed.contains("== classify") && printed.contains("== summarize") && printed.contains("preview:"), printed);
        assertTrue(printed.contains(" tokens generated)"), "summaries show their token count (random weights may decode to blanks): " + printed);
        assertTrue(printed.contains("review-"), printed);
        // a second run (a fresh command object, as from the shell) recreates its own output directory
        DemoCommand again = new DemoCommand();
        setField(again, "engines", FakeEngine.factory());
        setField(again, "out", new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, new CommandLine(again).execute("--output", out.toString(), "--model", model.toString(), "--no-progress"));
    }

    static void setField(Object o, String name, Object v) throws Exception {
        var f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        f.set(o, v);
    }
}
