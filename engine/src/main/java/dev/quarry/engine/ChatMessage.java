package dev.quarry.engine;

import java.util.List;
import java.util.Objects;

/**
 * One chat turn: role is {@code system}, {@code user}, {@code assistant} or {@code tool}. Only assistant
 * messages may carry tool calls (rendered as {@code <tool_call>} blocks after the content).
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        toolCalls = List.copyOf(Objects.requireNonNull(toolCalls, "toolCalls"));
        if (!toolCalls.isEmpty() && !role.equals("assistant")) {
            throw new IllegalArgumentException("only assistant messages carry tool calls, not role '" + role + "'");
        }
    }

    /** A message without tool calls. */
    public ChatMessage(String role, String content) { this(role, content, List.of()); }

    public static ChatMessage system(String content) { return new ChatMessage("system", content); }

    public static ChatMessage user(String content) { return new ChatMessage("user", content); }

    public static ChatMessage assistant(String content) { return new ChatMessage("assistant", content); }

    /** An assistant message with tool calls; {@code content} may be empty. */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage("assistant", content, toolCalls);
    }

    /** A tool result (consecutive tool messages render as one user turn of {@code <tool_response>} blocks). */
    public static ChatMessage tool(String content) { return new ChatMessage("tool", content); }
}
