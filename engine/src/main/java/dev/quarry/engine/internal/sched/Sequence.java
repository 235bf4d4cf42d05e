package dev.quarry.engine.internal.sched;

import dev.quarry.engine.FinishReason;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.decode.json.JsonConstraint;
import dev.quarry.engine.internal.task.TaskPrompter;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import java.util.concurrent.CompletableFuture;

/** One request inside the scheduler: its prompt, decoding parameters, progress and future. */
public final class Sequence {
    public enum Kind { GENERATE, TASK_GENERATE, EXTRACT, CLASSIFY }

    final Kind kind;
    final String id;
    final Task task;
    final TaskInput input;
    final TaskPrompter prompter;
    final int[] prefixIds;
    final int[] suffixIds;
    final SamplingParams sampling;
    final long seed;
    final int maxNewTokens;
    final boolean returnLogits;
    final long submitNanos;
    final long deadlineNanos;
    final long reservedBytes;
    final CompletableFuture<?> future;
    /** Label token ids (+ end-of-text), for classify. */
    int[][] labelIds;
    JsonConstraint.Cursor cursor;

    int[] generated = new int[16];
    int generatedCount;
    int lastToken;
    float[] lastLogits;
    FinishReason finish;
    /** Whether {@link #reservedBytes} is counted in the scheduler's budget. */
    boolean reserved;
    String stoppedText;
    /** Chunked prefill: suffix tokens already prefilled into {@link #partial}, this sequence's own state. */
    int prefilled;
    BatchState partial;

    Sequence(Kind kind, String id, Task task, TaskInput input, TaskPrompter prompter, int[] prefixIds, int[] suffixIds,
             SamplingParams sampling, long seed, int maxNewTokens, boolean returnLogits, long submitNanos,
             long deadlineNanos, long reservedBytes, CompletableFuture<?> future) {
        this.kind = kind;
        this.id = id;
        this.task = task;
        this.input = input;
        this.prompter = prompter;
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        this.sampling = sampling;
        this.seed = seed;
        this.maxNewTokens = maxNewTokens;
        this.returnLogits = returnLogits;
        this.submitNanos = submitNanos;
        this.deadlineNanos = deadlineNanos;
        this.reservedBytes = reservedBytes;
        this.future = future;
    }

    int promptLength() { return prefixIds.length + suffixIds.length; }

    void append(int token) {
        if (generatedCount == generated.length) generated = java.util.Arrays.copyOf(generated, generated.length * 2);
        generated[generatedCount++] = token;
        lastToken = token;
    }

    int[] generatedIds() { return java.util.Arrays.copyOf(generated, generatedCount); }
}
