package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
}
