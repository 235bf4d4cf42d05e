package dev.quarry.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Objects;

/**
 * One tool call of an assistant message. {@code arguments} follows the chat template's rule: a JSON string
 * node is written as given (it already holds the arguments' JSON text), any other node (usually an object)
 * is written as JSON the way Hugging Face's {@code tojson} writes it.
 */
public record ToolCall(String name, JsonNode arguments) {
    public ToolCall {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }

    /** A call whose arguments are a JSON value (written with {@code tojson}). */
    public static ToolCall of(String name, JsonNode arguments) { return new ToolCall(name, arguments); }

    /** A call whose arguments are already JSON text, written verbatim. */
    public static ToolCall ofText(String name, String argumentsJsonText) {
        return new ToolCall(name, TextNode.valueOf(Objects.requireNonNull(argumentsJsonText, "arguments")));
    }
}
