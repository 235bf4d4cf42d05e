package dev.quarry.engine;

import java.util.List;

/** Tokenizer plus chat template of a checkpoint. */
public interface TextCodec {
    /** Token ids of {@code text}, no special tokens added (Granite adds no BOS). */
    int[] encode(String text);

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
