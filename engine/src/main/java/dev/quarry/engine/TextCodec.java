package dev.quarry.engine;

import java.util.List;

/** Tokenizer plus chat template of a checkpoint. */
public interface TextCodec {
    /** Token ids of {@code text}, no special tokens added (Granite adds no BOS). */
    int[] encode(String text);

    /**
     * Token ids of untrusted text (a record's content): the text of a special token such as
     * {@code <|end_of_text|>} or {@code <|start_of_role|>} is encoded as ordinary text, never as the
     * control token (HF's {@code split_special_tokens=True}). Text without special-token strings gets
     * exactly {@link #encode}'s ids. The default is {@link #encode} (right for a codec without special
     * tokens); {@code GraniteTextCodec} overrides it.
     */
    default int[] encodeText(String text) {
        return encode(text);
    }

    /** Text of {@code ids}; special tokens are skipped. */
    String decode(int[] ids);

    /** Renders messages, tools and documents with the Granite chat template, generation prompt appended. */
    String applyChatTemplate(ChatTemplateInput input);

    /** Renders messages (no tools, no documents) with the Granite chat template, generation prompt appended. */
    default String applyChatTemplate(List<ChatMessage> messages) {
        return applyChatTemplate(ChatTemplateInput.of(messages));
    }

    /** Id of {@code <|end_of_text|>}. */
    int eosTokenId();

    /** Number of ids the tokenizer can decode; ids at or above it are never sampled. */
    int decodableVocabSize();
}
