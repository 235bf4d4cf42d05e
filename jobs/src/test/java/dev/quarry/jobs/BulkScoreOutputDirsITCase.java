package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultSchema.TaskKind;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both directories the summary names exist after a run, also the one no row went to; a run whose records all
 * failed still completes (errors are data, no bound set).
 */
class BulkScoreOutputDirsITCase {
    static BulkScoreJob.Options options(Path in, Path out) {
        ScoringSpec spec = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(out.getParent()).build();
        return BulkScoreJob.Options.builder().input(in.toString()).output(out.toString())
                .mapping(InputMapping.builder().idField("doc_id").textField("body").build()).spec(spec).parallelism(1).build();
    }

    @Test
    void allRowsFailed(@TempDir Path tmp) throws Exception {
        Path in = BulkScoreJobITCase.writeInput(tmp.resolve("in"), 6, i -> null);
        Path out = tmp.resolve("out");
        BulkScoreRunner.Summary s = BulkScoreRunner.run(options(in, out), FakeEngine.factory(), System.err, false);
        assertEquals(0, s.results().rows());
        assertEquals(6, s.errors().rows());
        assertTrue(Files.isDirectory(out), "results directory " + out + " named in the summary exists (empty)");
        assertTrue(s.render().contains("results:     " + out), s.render());
    }

    @Test
    void noRowFailed(@TempDir Path tmp) throws Exception {
        Path in = BulkScoreJobITCase.writeInput(tmp.resolve("in"), 6, i -> "review " + i);
        Path out = tmp.resolve("out");
        BulkScoreRunner.Summary s = BulkScoreRunner.run(options(in, out), FakeEngine.factory(), System.err, false);
        assertEquals(6, s.results().rows());
        assertEquals(0, s.errors().rows());
        assertTrue(Files.isDirectory(tmp.resolve("out" + BulkScoreJob.ERRORS_SUFFIX)), "errors directory exists (empty)");
    }
}
