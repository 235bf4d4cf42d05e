package dev.quarry.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.checkpoint.CheckpointMaker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The mistakes a user makes on the command line end, before any job starts, with exit code 2 and one line naming the
 * offending flag or file (no usage dump, no stack trace).
 */
class CliErrorMessagesTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path input;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        CheckpointMaker.make("tiny-hybrid", 0, model, "f32", 1);
        input = dir.resolve("in.parquet");
        DemoCommand.prepare(dir.resolve("demo"));
        Files.copy(dir.resolve("demo/input/reviews.parquet"), input);
    }

    record Run(int rc, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = QuarryCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    static String[] bulkScore(String output, String... more) {
        List<String> a = new ArrayList<>(List.of("bulk-score", "--input", input.toString(), "--output", dir.resolve(output).toString(), "--no-progress"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static void assertOneLineError(Run r, String... parts) {
        assertEquals(2, r.rc, r.err);
        String msg = r.err.strip();
        assertFalse(msg.contains("\n"), "one line expected: " + msg);
        assertFalse(msg.contains("\tat "), msg);
        for (String p : parts) assertTrue(msg.contains(p), "'" + p + "' not in: " + msg);
    }

    @Test
    void modelWithoutTokenizerIsRefusedBeforeTheJob() throws Exception {
        Path m = dir.resolve("no-tokenizer");
        Files.createDirectories(m);
        Files.copy(model.resolve("config.json"), m.resolve("config.json"));
        Files.copy(model.resolve("model.safetensors"), m.resolve("model.safetensors"));
        Run r = run(bulkScore("out-notok", "--task", "summarize", "--model", m.toString()));
        assertOneLineError(r, "--model", m.toString(), "tokenizer.json");
        assertFalse(Files.exists(dir.resolve("out-notok")));
        assertOneLineError(run("generate", "--model", m.toString(), "--prompt", "hi"), "--model", "tokenizer.json");
    }

    @Test
    void modelWithoutWeightsOrDirectoryIsRefused() throws Exception {
        Path m = dir.resolve("no-weights");
        Files.createDirectories(m);
        Files.copy(model.resolve("config.json"), m.resolve("config.json"));
        Files.copy(model.resolve("tokenizer.json"), m.resolve("tokenizer.json"));
        assertOneLineError(run(bulkScore("out-now", "--task", "summarize", "--model", m.toString())), "--model", "safetensors");
        assertOneLineError(run(bulkScore("out-nodir", "--task", "summarize", "--model", dir.resolve("nowhere").toString())),
                "--model", "nowhere", "no such directory");
    }

    @Test
    void unknownOrMissingFlagsAreOneLineWithoutTheUsageText() {
        Run r = run(bulkScore("out-bogus", "--task", "summarize", "--model", model.toString(), "--bogus"));
        assertOneLineError(r, "quarry bulk-score", "--bogus", "--help");
        assertFalse(r.err.contains("Usage:"), r.err);
        Run typo = run(bulkScore("out-typo", "--task", "summarize", "--model", model.toString(), "--max-new-token=3"));
        assertOneLineError(typo, "--max-new-token=3", "--max-new-tokens");
        Run missing = run("stream", "--bootstrap-servers", "localhost:9092", "--input-topic", "a", "--output-topic", "b",
                "--task", "summarize", "--model", model.toString());
        assertOneLineError(missing, "quarry stream", "--dlq-topic");
        assertOneLineError(run("no-such-command"), "no-such-command");
    }

    @Test
    void badSchemaFilesAreNamed() throws Exception {
        Path missing = dir.resolve("missing.json");
        assertOneLineError(run(bulkScore("out-s1", "--task", "extract", "--schema", missing.toString(), "--model", model.toString())),
                "--schema", "missing.json", "no such file");
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"type\": \"object\",\n \"properties\": {\"a\": {\"type\": \"string\"}}\n");
        assertOneLineError(run(bulkScore("out-s2", "--task", "extract", "--schema", broken.toString(), "--model", model.toString())),
                "--schema", "broken.json", "not valid JSON", "line 3");
        Path badType = dir.resolve("bad-type.json");
        Files.writeString(badType, "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"strin\"}}}");
        assertOneLineError(run(bulkScore("out-s3", "--task", "extract", "--schema", badType.toString(), "--model", model.toString())),
                "--schema", "bad-type.json", "strin");
        assertFalse(Files.exists(dir.resolve("out-s3")));
    }

    @Test
    void missingIdsFileIsNamed() {
        assertOneLineError(run("generate", "--model", model.toString(), "--ids-file", dir.resolve("ids.txt").toString()),
                "--ids-file", "ids.txt", "no such file");
    }

    @Test
    void badDeviceOrDtypeNamesTheFlagBeforeTheJob() {
        assertOneLineError(run(bulkScore("out-d1", "--task", "summarize", "--model", model.toString(), "--device", "tpu")),
                "--device", "'tpu'");
        assertOneLineError(run(bulkScore("out-d2", "--task", "summarize", "--model", model.toString(), "--dtype", "f64")),
                "--dtype", "'f64'");
        assertOneLineError(run(bulkScore("out-d3", "--task", "summarize", "--model", model.toString(), "--device", "gpu0")), "--device");
    }

    /** Nothing listens on the port: the run ends with a message instead of a job waiting for Kafka metadata without a word. */
    @Test
    @org.junit.jupiter.api.Timeout(120)   // a guard against the old hang, not a measurement: the check gives up after 2 s
    void unreachableKafkaIsNamed() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        System.setProperty("quarry.kafka.checkTimeoutMs", "2000");
        try {
            Run r = run("stream", "--bootstrap-servers", "localhost:" + port, "--input-topic", "in", "--output-topic", "out",
                    "--dlq-topic", "dlq", "--task", "summarize", "--model", model.toString());
            assertEquals(2, r.rc, r.err);
            String last = r.err.strip().lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.contains("--bootstrap-servers localhost:" + port) && last.contains("no Kafka broker answered"), r.err);
        } finally {
            System.clearProperty("quarry.kafka.checkTimeoutMs");
        }
    }

    @Test
    void errorsDirectoryMustNotBeTheOutputDirectory() {
        String out = dir.resolve("out-same").toString();
        assertOneLineError(run(bulkScore("out-same", "--task", "summarize", "--model", model.toString(), "--errors", out)),
                "--errors", "--output", "separate");
        assertOneLineError(run(bulkScore("out-nested", "--task", "summarize", "--model", model.toString(),
                "--errors", dir.resolve("out-nested/errors").toString())), "--errors", "separate");
        assertOneLineError(run(bulkScore("out-uri", "--task", "summarize", "--model", model.toString(),
                "--errors", dir.resolve("out-uri").toUri().toString())), "--errors", "separate");
    }

    @Test
    void outputMustNotLieInsideTheInput() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in-dir"));
        Files.copy(input, in.resolve("part-0.parquet"));
        assertOneLineError(run("bulk-score", "--input", in.toString(), "--output", in.resolve("scored").toString(), "--no-progress",
                "--task", "summarize", "--model", model.toString()), "--output", "inside --input");
        assertOneLineError(run("bulk-score", "--input", in.toString(), "--output", dir.resolve("in-dir-scored").toString(), "--no-progress",
                "--errors", in.resolve("errors").toString(), "--task", "summarize", "--model", model.toString()), "--errors", "inside --input");
    }
}
