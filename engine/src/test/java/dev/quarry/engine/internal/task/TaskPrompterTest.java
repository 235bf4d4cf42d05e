package dev.quarry.engine.internal.task;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.engine.internal.text.GraniteTextCodec;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Prefix and suffix are tokenized separately; with the real byte-level BPE tokenizer they must still give the whole prompt's ids. */
class TaskPrompterTest {
    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * "Q: {text}": the space before the record belongs to the record's first word (" the" is one token of the
     * bundled tokenizer, as in transformers: "Q: the cat" -> [48, 25, 272, 220, 66, 279]); the prefix used to end
     * with the space, which gave "Q", ":", " ", "t", "he" instead.
     */
    @Test
    void prefixAndSuffixIdsEqualTheWholePromptsIds() throws Exception {
        Path tok = Path.of(TaskPrompterTest.class.getResource("/tokenizer-tiny/tokenizer.json").toURI());
        try (GraniteTextCodec c = GraniteTextCodec.open(tok)) {
            Task[] tasks = {
                PromptTask.builder().template("Q: {text}").build(),
                PromptTask.builder().template("Q:\t {text} and {lang}").build(),
                PromptTask.builder().template("Translate to {lang}: {text}").build(),
                SummarizeTask.defaults(),
            };
            TaskInput in = new TaskInput("r", "the cat sees  the hat", Map.of("lang", "the French"), 0);
            for (Task t : tasks) {
                TaskPrompter p = TaskPrompter.of(t, c);
                int[] whole = c.encode(p.prefixText() + p.suffixText(in));
                assertArrayEquals(whole, concat(p.prefixIds(), p.suffixIds(in)), t.toString());
            }
            TaskPrompter q = TaskPrompter.of(PromptTask.builder().template("Q: {text}").build(), c);
            int[] suffix = q.suffixIds(TaskInput.of("r", "the cat"));
            assertArrayEquals(new int[] {272, 220, 66, 279}, Arrays.copyOf(suffix, 4), Arrays.toString(suffix));
            assertEquals(48, q.prefixIds()[q.prefixIds().length - 2]);
        }
    }
}
