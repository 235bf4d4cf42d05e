package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultSchema.TaskKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stream job options that are decided before any job runs. */
class StreamJobOptionsTest {
    @TempDir
    Path tmp;

    StreamJob.Options.Builder options(String in, String out, String dlq) {
        return StreamJob.Options.builder().bootstrapServers("localhost:9092").inputTopic(in).outputTopic(out).dlqTopic(dlq)
                .spec(ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(tmp).build());
    }

    @Test
    void jobsReadingOneTopicIntoDifferentOutputsDoNotShareTheDefaultConsumerGroup() {
        StreamJob.Options summaries = options("docs", "summaries", "summaries-dlq").build();
        StreamJob.Options labels = options("docs", "labels", "labels-dlq").build();
        assertNotEquals(summaries.groupId, labels.groupId);
        assertEquals("quarry-docs-summaries", summaries.groupId);
        // an explicit group still wins
        assertEquals("legacy", options("docs", "labels", "labels-dlq").groupId("legacy").build().groupId);
    }

    /** Creates a completed checkpoint {@code chk-N} (with {@code _metadata}) where Flink would write it for {@code o}. */
    static String fakeCompletedCheckpoint(StreamJob.Options o, String flinkJobId, int n) throws Exception {
        String base = StreamJob.configuration(o).get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY);
        Path chk = Path.of(java.net.URI.create(base)).resolve(flinkJobId).resolve("chk-" + n);
        java.nio.file.Files.createDirectories(chk);
        java.nio.file.Files.write(chk.resolve("_metadata"), new byte[] {1});
        return chk.toString();
    }

    /** The local path of the checkpoint the job's configuration resumes from. */
    static java.util.Optional<String> restoresFrom(StreamJob.Options o) {
        return StreamJob.configuration(o).getOptional(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH)
                .map(p -> new org.apache.flink.core.fs.Path(p).toUri().getPath());
    }

    @Test
    void aJobRestoresOnlyItsOwnCheckpointsFromASharedCheckpointDir() throws Exception {
        String dir = tmp.resolve("ckpt").toUri().toString();
        StreamJob.Options summaries = options("docs", "summaries", "summaries-dlq").checkpointDir(dir).build();
        StreamJob.Options labels = options("docs", "labels", "labels-dlq").checkpointDir(dir).build();
        assertEquals(java.util.Optional.empty(), restoresFrom(summaries));
        String theirs = fakeCompletedCheckpoint(labels, "00000000000000000000000000000001", 7);
        assertEquals(java.util.Optional.empty(), restoresFrom(summaries), "another job's checkpoint is not restored");
        assertEquals(theirs, restoresFrom(labels).orElseThrow(), "a job restores its own checkpoint");
        String ours = fakeCompletedCheckpoint(summaries, "00000000000000000000000000000002", 3);
        assertEquals(ours, restoresFrom(summaries).orElseThrow());
        assertEquals(theirs, restoresFrom(labels).orElseThrow(), "still its own, not the newer one of the other job");
    }

    @Test
    void theStartMessageSaysWhatIsRestoredAndWhyAnOldLayoutCheckpointIsNot() throws Exception {
        Path dir = tmp.resolve("ckpt");
        StreamJob.Options o = options("docs", "summaries", "summaries-dlq").checkpointDir(dir.toUri().toString()).build();
        // a checkpoint of an earlier version's layout: directly under --checkpoint-dir, whose job it is unknown
        Path legacy = dir.resolve("0000000000000000000000000000000a").resolve("chk-4");
        java.nio.file.Files.createDirectories(legacy);
        java.nio.file.Files.write(legacy.resolve("_metadata"), new byte[] {1});
        String fresh = dev.quarry.jobs.cli.StreamCommand.restoreMessage(o, StreamJob.restorePoint(o));
        assertTrue(fresh.contains("no checkpoint of this job") && fresh.contains("quarry-docs-summaries")
                && fresh.contains("NOT resuming from") && fresh.contains("0000000000000000000000000000000a/chk-4"), fresh);
        String ours = fakeCompletedCheckpoint(o, "00000000000000000000000000000002", 9);
        String resumed = dev.quarry.jobs.cli.StreamCommand.restoreMessage(o, StreamJob.restorePoint(o));
        assertTrue(resumed.contains("resuming from checkpoint") && resumed.contains(ours) && resumed.contains("(checkpoint 9,"), resumed);
    }
}
