package dev.quarry.engine.internal.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.engine.ChatMessage;
import dev.quarry.engine.ChatTemplateInput;
import dev.quarry.engine.TextCodec;
import dev.quarry.engine.ToolCall;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's {@code tokenizer.json} (DJL's HuggingFace tokenizers, no special tokens added: Granite has
 * no BOS) plus the Granite 4.0 chat template written from the spec (§2.2): the system turn first (the first
 * system message and/or the TOOLS and DOCS blocks, or the default prompt), user/system/assistant turns
 * (assistant tool calls as {@code <tool_call>} blocks), consecutive tool messages as one user turn of
 * {@code <tool_response>} blocks, then the generation prompt. JSON is written as HF's {@code tojson} does.
 */
public final class GraniteTextCodec implements TextCodec, AutoCloseable {
    public static final String DEFAULT_SYSTEM =
            "You are a helpful assistant. Please ensure responses are professional, accurate, and safe.";
    public static final String EOS_TEXT = "<|end_of_text|>";
    static final String SOR = "<|start_of_role|>";
    static final String EOR = "<|end_of_role|>";
    static final String TOOLS_PREFIX = "You are a helpful assistant with access to the following tools. You may call one or more"
            + " tools to assist with the user query.\n\nYou are provided with function signatures within <tools></tools>"
            + " XML tags:\n<tools>";
    static final String TOOLS_SUFFIX = "\n</tools>\n\nFor each tool call, return a json object with function name and"
            + " arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>,"
            + " \"arguments\": <args-json-object>}\n</tool_call>. If a tool does not exist in the provided list of tools,"
            + " notify the user that you do not have the ability to fulfill the request.";
    static final String DOCS_PREFIX = "You are a helpful assistant with access to the following documents. You may use one"
            + " or more documents to assist with the user query.\n\nYou are given a list of documents within"
            + " <documents></documents> XML tags:\n<documents>";
    static final String DOCS_SUFFIX = "\n</documents>\n\nWrite the response to the user's input by strictly aligning"
            + " with the facts in the provided documents. If the information needed to answer the question is not"
            + " available in the documents, inform the user that the question cannot be answered based on the"
            + " available data.";

    private final HuggingFaceTokenizer tokenizer;
    /** The same tokenizer without its special added tokens: special-token text is encoded as plain text. */
    private final HuggingFaceTokenizer plain;
    private final int eos;
    private final int decodable;

    private GraniteTextCodec(HuggingFaceTokenizer tokenizer, HuggingFaceTokenizer plain, int eos, int decodable) {
        this.tokenizer = tokenizer;
        this.plain = plain;
        this.eos = eos;
        this.decodable = decodable;
    }

    /** Opens {@code tokenizerJson}; a missing file or one without {@code <|end_of_text|>} is a clear error. */
    public static GraniteTextCodec open(Path tokenizerJson) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IllegalArgumentException("missing tokenizer file " + tokenizerJson);
        }
        int max = -1;
        Integer eos = null;
        ObjectNode plainJson;
        try {
            JsonNode t = new ObjectMapper().readTree(tokenizerJson.toFile());
            if (!t.isObject()) throw new IOException("not a JSON object");
            for (Iterator<Map.Entry<String, JsonNode>> it = t.path("model").path("vocab").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                max = Math.max(max, e.getValue().asInt());
                if (e.getKey().equals(EOS_TEXT)) eos = e.getValue().asInt();
            }
            for (JsonNode a : t.path("added_tokens")) {
                max = Math.max(max, a.path("id").asInt());
                if (EOS_TEXT.equals(a.path("content").asText())) eos = a.path("id").asInt();
            }
            plainJson = ((ObjectNode) t).deepCopy();
            ArrayNode kept = plainJson.arrayNode();
            for (JsonNode a : t.path("added_tokens")) {
                if (!a.path("special").asBoolean(false)) kept.add(a);
            }
            plainJson.set("added_tokens", kept);
        } catch (IOException e) {
            throw new UncheckedIOException(tokenizerJson + ": not a readable tokenizer.json: " + e.getMessage(), e);
        }
        if (eos == null) throw new IllegalArgumentException(tokenizerJson + ": no " + EOS_TEXT + " token");
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        HuggingFaceTokenizer tok = null;
        try {
            tok = HuggingFaceTokenizer.newInstance(tokenizerJson, options);
            HuggingFaceTokenizer plain = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(new ObjectMapper().writeValueAsBytes(plainJson)), options);
            return new GraniteTextCodec(tok, plain, eos, max + 1);
        } catch (IOException | RuntimeException e) {
            if (tok != null) tok.close();
            throw new IllegalArgumentException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] r = new int[ids.length];
        for (int i = 0; i < ids.length; i++) r[i] = (int) ids[i];
        return r;
    }

    /**
     * Like HF's {@code split_special_tokens=True}: the text of a special token ({@code <|end_of_text|>},
     * {@code <|start_of_role|>}, ...) is encoded as ordinary text, never as the control token. Non-special
     * added tokens ({@code <tool_call>}, {@code <think>}, ...) are matched as usual, as HF does.
     */
    @Override
    public int[] encodeText(String text) {
        long[] ids = plain.encode(text, false, false).getIds();
        int[] r = new int[ids.length];
        for (int i = 0; i < ids.length; i++) r[i] = (int) ids[i];
        return r;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, true);
    }

    @Override
    public String applyChatTemplate(ChatTemplateInput input) {
        return render(input);
    }

    /** The Granite chat template (spec §2.2) for messages only, generation prompt appended. */
    public static String render(List<ChatMessage> messages) {
        return render(ChatTemplateInput.of(messages));
    }

    /**
     * The Granite chat template (spec §2.2), generation prompt appended: the system turn (first system
     * message, then the TOOLS and DOCS blocks, or the default prompt when that is empty), the messages, then
     * {@code <|start_of_role|>assistant<|end_of_role|>}. Byte for byte what the checkpoint's jinja template
     * gives under transformers' {@code apply_chat_template} (see {@code ChatTemplateGoldenTest}).
     */
    public static String render(ChatTemplateInput input) {
        List<ChatMessage> messages = input.messages();
        String tools = input.tools().isEmpty() ? null : block(TOOLS_PREFIX, input.tools(), TOOLS_SUFFIX, "tool ");
        String docs = input.documents().isEmpty() ? null : block(DOCS_PREFIX, input.documents(), DOCS_SUFFIX, "document ");
        int start = 0;
        StringBuilder system = new StringBuilder();
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            start = 1;
            system.append(messages.get(0).content());
            if (tools != null) system.append("\n\n").append(tools);
            if (docs != null) system.append("\n\n").append(docs);
        } else if (tools != null && docs != null) {
            system.append(tools).append("\n\n").append(docs);
        } else if (tools != null) {
            system.append(tools);
        } else if (docs != null) {
            system.append(docs);
        }
        StringBuilder sb = new StringBuilder();
        turn(sb, "system", system.length() == 0 ? DEFAULT_SYSTEM : system.toString());
        for (int i = start; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            switch (m.role()) {
                case "tool": {
                    sb.append(SOR).append("user").append(EOR);
                    while (i < messages.size() && messages.get(i).role().equals("tool")) {
                        sb.append("\n<tool_response>\n").append(messages.get(i).content()).append("\n</tool_response>");
                        i++;
                    }
                    i--;
                    sb.append(EOS_TEXT).append('\n');
                    break;
                }
                case "assistant": {
                    sb.append(SOR).append("assistant").append(EOR).append(m.content());
                    List<ToolCall> calls = m.toolCalls();
                    for (int c = 0; c < calls.size(); c++) {
                        if (c > 0 || !m.content().isEmpty()) sb.append('\n');
                        ToolCall call = calls.get(c);
                        sb.append("<tool_call>\n{\"name\": \"").append(call.name()).append("\", \"arguments\": ")
                                .append(call.arguments().isTextual() ? call.arguments().textValue() : json(call.arguments(),
                                        "arguments of tool call " + c + " of message " + i))
                                .append("}\n</tool_call>");
                    }
                    sb.append(EOS_TEXT).append('\n');
                    break;
                }
                case "user":
                case "system":
                    turn(sb, m.role(), m.content());
                    break;
                default:
                    throw new IllegalArgumentException("unknown chat role '" + m.role() + "' in message " + i);
            }
        }
        return sb.append(SOR).append("assistant").append(EOR).toString();
    }

    private static String block(String prefix, List<JsonNode> items, String suffix, String what) {
        StringBuilder sb = new StringBuilder(prefix);
        for (int i = 0; i < items.size(); i++) {
            sb.append('\n').append(json(items.get(i), what + i));
        }
        return sb.append(suffix).toString();
    }

    private static String json(JsonNode n, String what) {
        try {
            return PyJson.dumps(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    private static void turn(StringBuilder sb, String role, String content) {
        sb.append(SOR).append(role).append(EOR).append(content).append(EOS_TEXT).append('\n');
    }

    @Override
    public int eosTokenId() { return eos; }

    @Override
    public int decodableVocabSize() { return decodable; }

    @Override
    public void close() {
        tokenizer.close();
        plain.close();
    }
}
