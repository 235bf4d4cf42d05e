package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.testing.FlinkTestCluster;
import dev.quarry.jobs.cli.ScoringOptions;
import dev.quarry.operators.ErrorRateBound;
import dev.quarry.operators.ErrorRateExceededException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The error-rate flags reach the inference operator: a bulk-score job over the bound fails with a clear message. */
@Timeout(120)
class ErrorRateBoundJobITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = FlinkTestCluster.miniCluster();

    static ScoringOptions parse(Path model, String... extra) {
        String[] base = {"--task", "summarize", "--model", model.toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CommandLine.populateCommand(new ScoringOptions(), args);
    }

    @Test
    void flagsBuildTheBound(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{}");
        Files.writeString(tmp.resolve("tokenizer.json"), "{}"); // a checkpoint directory by its files (the fake engine reads none)
        Files.writeString(tmp.resolve("model.safetensors"), "");
        assertTrue(parse(tmp).spec().errorRateBound().isNone(), "no flags: errors never fail the job");
        ErrorRateBound b = parse(tmp, "--max-error-rate", "0.25", "--error-window", "40").spec().errorRateBound();
        assertEquals(0.25, b.maxErrorFraction());
        assertEquals(40, b.window());
        assertEquals(3, parse(tmp, "--max-errors", "3").spec().errorRateBound().maxErrors());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(tmp, "--max-error-rate", "1.5").spec());
        assertTrue(e.getMessage().contains("--max-error-rate") && e.getMessage().contains("[0, 1)"), e.getMessage());
    }

    @Test
    void bulkScoreOverTheBoundFailsWithAClearMessage(@TempDir Path tmp) throws Exception {
        // one bad record (d5, empty), so the one that trips the bound does not depend on the order the files are read
        // in; 100 rows per file, so the source's split request at the end of part-a often races d5's failure and
        // Flink restarts the task for the lost split event (see ErrorRateExceededException): the restarted attempt
        // must fail in open(), before it loads an engine or reads a record, with the bound's message
        FakeEngine.OPENED.set(0);
        String m = boundFailure(tmp, i -> i == 5 ? "" : "review number " + i, 3);
        assertEquals(1, FakeEngine.OPENED.get(), "no attempt after the bound tripped loaded an engine (records replayed)");
        assertTrue(m.contains("more than the allowed 0") && m.contains("Last error: empty_input: record d5") && m.contains("text is empty"), m);
        assertTrue(m.contains("--max-errors") && m.contains("--max-error-rate"), "names the CLI flags that set the bound: " + m);
    }

    @Test
    void recordsTheSourceFoundInvalidCountTowardTheBound(@TempDir Path tmp) throws Exception {
        // d5 has no text (a null body): the Parquet source marks it invalid before the engine sees it
        String m = boundFailure(tmp, i -> i == 5 ? null : "review number " + i, 0);
        assertTrue(m.contains("Last error: invalid_record") && m.contains("d5"), m);
    }

    /** Bulk-scores 200 rows (bodies from {@code body}) with --max-errors 0 and returns the bound's failure message. */
    static String boundFailure(Path tmp, java.util.function.IntFunction<String> body, int restartAttempts) throws Exception {
        Path in = BulkScoreJobITCase.writeInput(tmp.resolve("in"), 200, body);
        Files.writeString(tmp.resolve("config.json"), "{}");
        Files.writeString(tmp.resolve("tokenizer.json"), "{}"); // a checkpoint directory by its files (the fake engine reads none)
        Files.writeString(tmp.resolve("model.safetensors"), "");
        ScoringSpec spec = parse(tmp, "--max-errors", "0").spec();
        BulkScoreJob.Options o = BulkScoreJob.Options.builder().input(in.toString()).output(tmp.resolve("out").toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec).parallelism(1)
                .restartAttempts(restartAttempts).build();
        Exception e = assertThrows(Exception.class, () -> BulkScoreRunner.run(o, FakeEngine.factory(), System.err, false));
        Optional<ErrorRateExceededException> cause = ExceptionUtils.findThrowable(e, ErrorRateExceededException.class);
        assertTrue(cause.isPresent(), "failed for another reason: " + ExceptionUtils.stringifyException(e));
        return cause.get().getMessage();
    }
}
