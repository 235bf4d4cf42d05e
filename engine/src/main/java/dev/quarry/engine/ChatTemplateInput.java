package dev.quarry.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/**
 * What the chat template renders: the messages, plus optional tools (each a JSON value in OpenAI function
 * schema, {@code {"type": "function", "function": {...}}}) and documents (each a JSON value, recommended
 * shape {@code {"doc_id", "title", "text", "source"}}). Tools and documents are written as JSON the way
 * Hugging Face's {@code tojson} writes them, keys in the nodes' order; empty lists mean none.
 */
public record ChatTemplateInput(List<ChatMessage> messages, List<JsonNode> tools, List<JsonNode> documents) {
    public ChatTemplateInput {
        messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
        tools = List.copyOf(Objects.requireNonNull(tools, "tools"));
        documents = List.copyOf(Objects.requireNonNull(documents, "documents"));
    }

    /** Messages only. */
    public static ChatTemplateInput of(List<ChatMessage> messages) {
        return new ChatTemplateInput(messages, List.of(), List.of());
    }

    /** A copy with these tools. */
    public ChatTemplateInput withTools(List<? extends JsonNode> tools) {
        return new ChatTemplateInput(messages, List.copyOf(tools), documents);
    }

    /** A copy with these documents. */
    public ChatTemplateInput withDocuments(List<? extends JsonNode> documents) {
        return new ChatTemplateInput(messages, tools, List.copyOf(documents));
    }
}
