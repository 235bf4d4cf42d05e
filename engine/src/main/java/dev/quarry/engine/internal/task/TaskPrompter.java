package dev.quarry.engine.internal.task;

import dev.quarry.engine.ChatMessage;
import dev.quarry.engine.ErrorKind;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.task.ClassifyTask;
import dev.quarry.engine.task.ExtractTask;
import dev.quarry.engine.task.PromptTask;
import dev.quarry.engine.task.SummarizeTask;
import dev.quarry.engine.task.Task;
import dev.quarry.engine.task.TaskInput;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a task's prompt through the codec's Granite chat template, split into a fixed prefix (system
 * turn + the start of the user turn with the instruction, identical for every record) and a per-record
 * suffix (the record's part of the user turn, the end of the turn and the assistant generation prompt).
 * Prefix and suffix are always tokenized separately, so a record's prompt ids are always
 * {@code prefixIds() ++ suffixIds(record)}, whether or not the prefix state is shared.
 */
public final class TaskPrompter {
    private static final String MARK = "\u0001QUARRY_RECORD\u0001";

    private final Task task;
    private final TextCodec codec;
    private final String prefixText;
    /** Trailing spaces/tabs of the fixed user part, moved to the start of every record's part. */
    private final String carry;
    private final String closingText;
    private final int[] prefixIds;
    private final boolean usesText;

    private TaskPrompter(Task task, TextCodec codec, String systemPrompt, String fixedUserPart, boolean usesText) {
        this.task = task;
        this.codec = codec;
        this.usesText = usesText;
        List<ChatMessage> msgs = new ArrayList<>();
        if (systemPrompt != null) msgs.add(ChatMessage.system(systemPrompt));
        msgs.add(ChatMessage.user(fixedUserPart + MARK));
        String full = codec.applyChatTemplate(msgs);
        int at = full.indexOf(MARK);
        if (at < 0 || full.indexOf(MARK, at + 1) >= 0) {
            throw new IllegalStateException("chat template did not keep the record marker exactly once");
        }
        // Trailing spaces/tabs of the fixed part ("Q: {text}") go with the record: the tokenizer joins a space
        // with the word after it (" the"), so a prefix ending in a space would tokenize "Q: the" unlike the
        // whole prompt ("Q", ":", " " + "the" instead of "Q", ":", " the").
        int cut = at;
        while (cut > 0 && (full.charAt(cut - 1) == ' ' || full.charAt(cut - 1) == '\t')) cut--;
        this.prefixText = full.substring(0, cut);
        this.carry = full.substring(cut, at);
        this.closingText = full.substring(at + MARK.length());
        this.prefixIds = codec.encode(prefixText);
    }

    public static TaskPrompter of(Task task, TextCodec codec) {
        if (task instanceof SummarizeTask t) {
            return new TaskPrompter(task, codec, t.systemPrompt(), t.instruction() + "\n\nText:\n", true);
        }
        if (task instanceof ClassifyTask t) {
            StringBuilder sb = new StringBuilder(t.instruction()).append("\n\nLabels:\n");
            for (ClassifyTask.Label l : t.labels()) {
                sb.append("- ").append(l.name());
                if (l.description() != null && !l.description().isBlank()) sb.append(": ").append(l.description());
                sb.append('\n');
            }
            sb.append("\nText:\n");
            return new TaskPrompter(task, codec, t.systemPrompt(), sb.toString(), true);
        }
        if (task instanceof ExtractTask t) {
            return new TaskPrompter(task, codec, t.systemPrompt(),
                    t.instruction() + "\n" + t.schemaJson() + "\n\nText:\n", true);
        }
        if (task instanceof PromptTask t) {
            String lead = "";
            List<PromptTask.Part> parts = t.parts();
            if (!parts.isEmpty() && parts.get(0).field() == null) lead = parts.get(0).literal();
            return new TaskPrompter(task, codec, t.systemPrompt(), lead, t.fieldNames().contains(PromptTask.TEXT_FIELD));
        }
        throw new IllegalArgumentException("unknown task " + task);
    }

    public Task task() { return task; }

    /** The fixed prefix (the same for every record of this task). */
    public String prefixText() { return prefixText; }

    public int[] prefixIds() { return prefixIds.clone(); }

    /** The record's part of the prompt, already closed with the assistant generation prompt. */
    public String suffixText(TaskInput in) throws RecordException {
        return carry + recordPart(in) + closingText;
    }

    /** The record's part of the user turn (record text and fields, for a prompt task with the template's glue). */
    private String recordPart(TaskInput in) throws RecordException {
        String text = in.text();
        if (usesText && (text == null || text.isBlank())) {
            throw new RecordException(ErrorKind.EMPTY_INPUT, "record '" + in.id() + "' has empty text");
        }
        String recordPart;
        if (task instanceof PromptTask t) {
            StringBuilder sb = new StringBuilder();
            List<PromptTask.Part> parts = t.parts();
            int start = !parts.isEmpty() && parts.get(0).field() == null ? 1 : 0;
            for (int i = start; i < parts.size(); i++) {
                PromptTask.Part p = parts.get(i);
                if (p.field() == null) {
                    sb.append(p.literal());
                } else if (p.field().equals(PromptTask.TEXT_FIELD)) {
                    sb.append(text);
                } else {
                    String v = in.fields().get(p.field());
                    if (v == null) {
                        throw new RecordException(ErrorKind.INVALID_RECORD, "record '" + in.id()
                                + "' lacks field '" + p.field() + "' named by the prompt template");
                    }
                    sb.append(v);
                }
            }
            recordPart = sb.toString();
            if (!usesText && recordPart.isBlank() && prefixText.isEmpty()) {
                throw new RecordException(ErrorKind.EMPTY_INPUT, "record '" + in.id() + "' renders an empty prompt");
            }
        } else {
            recordPart = text;
        }
        return recordPart;
    }

    /**
     * The suffix ids: the record's part encoded as plain text ({@link TextCodec#encodeText}: a record holding
     * {@code <|end_of_text|>} or {@code <|start_of_role|>} cannot end its turn or open another one), then the
     * closing template. The closing template starts with {@code <|end_of_text|>}, where the tokenizer splits
     * anyway, so for records without special-token text these are exactly the ids of the whole suffix.
     */
    public int[] suffixIds(TaskInput in) throws RecordException {
        int[] record = codec.encodeText(carry + recordPart(in));
        int[] closing = codec.encode(closingText);
        int[] ids = java.util.Arrays.copyOf(record, record.length + closing.length);
        System.arraycopy(closing, 0, ids, record.length, closing.length);
        return ids;
    }

    /**
     * Suffix ids with the record text cut to at most {@code maxSuffixTokens} tokens in all (the
     * closing template is kept whole). Used when truncation is enabled.
     */
    public int[] truncatedSuffixIds(TaskInput in, int maxSuffixTokens) throws RecordException {
        int[] full = suffixIds(in);
        if (full.length <= maxSuffixTokens) return full;
        int closing = codec.encode(closingText).length;
        int keep = maxSuffixTokens - closing - 1;
        if (keep < 1) {
            throw new RecordException(ErrorKind.INPUT_TOO_LONG, "record '" + in.id() + "': no room for any text");
        }
        String text = in.text() == null ? "" : in.text();
        int[] textIds = codec.encodeText(text);
        String cut = codec.decode(java.util.Arrays.copyOf(textIds, Math.min(keep, textIds.length)));
        TaskInput shorter = new TaskInput(in.id(), cut, in.fields(), in.seed());
        int[] ids = suffixIds(shorter);
        while (ids.length > maxSuffixTokens && keep > 1) {
            keep = Math.max(1, keep - (ids.length - maxSuffixTokens));
            cut = codec.decode(java.util.Arrays.copyOf(textIds, Math.min(keep, textIds.length)));
            ids = suffixIds(new TaskInput(in.id(), cut, in.fields(), in.seed()));
        }
        if (ids.length > maxSuffixTokens) {
            throw new RecordException(ErrorKind.INPUT_TOO_LONG, "record '" + in.id() + "' cannot be truncated to fit");
        }
        return ids;
    }
}
