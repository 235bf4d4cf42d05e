package dev.quarry.engine.internal.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quarry.engine.ChatMessage;
import dev.quarry.engine.TextCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's {@code tokenizer.json} (DJL's HuggingFace tokenizers, no special tokens added: Granite has
 * no BOS) plus the Granite 4.0 chat template written from the spec (§2.2) for plain messages: the system
 * turn first (the first system message, or the default prompt), user/system/assistant turns, consecutive
 * tool messages as one user turn of {@code <tool_response>} blocks, then the generation prompt.
 */
public final class GraniteTextCodec implements TextCodec, AutoCloseable {
    public static final String DEFAULT_SYSTEM =
            "You are a helpful assistant. Please ensure responses are professional, accurate, and safe.";
    public static final String EOS_TEXT = "<|end_of_text|>";
    static final String SOR = "<|start_of_role|>";
    static final String EOR = "<|end_of_role|>";

    private final HuggingFaceTokenizer tokenizer;
    private final int eos;
    private final int decodable;

    private GraniteTextCodec(HuggingFaceTokenizer tokenizer, int eos, int decodable) {
        this.tokenizer = tokenizer;
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
        try {
            JsonNode t = new ObjectMapper().readTree(tokenizerJson.toFile());
            for (Iterator<Map.Entry<String, JsonNode>> it = t.path("model").path("vocab").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                max = Math.max(max, e.getValue().asInt());
                if (e.getKey().equals(EOS_TEXT)) eos = e.getValue().asInt();
            }
            for (JsonNode a : t.path("added_tokens")) {
                max = Math.max(max, a.path("id").asInt());
                if (EOS_TEXT.equals(a.path("content").asText())) eos = a.path("id").asInt();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(tokenizerJson + ": not a readable tokenizer.json: " + e.getMessage(), e);
        }
        if (eos == null) throw new IllegalArgumentException(tokenizerJson + ": no " + EOS_TEXT + " token");
        try {
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
            return new GraniteTextCodec(tok, eos, max + 1);
        } catch (IOException | RuntimeException e) {
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

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, true);
    }

    @Override
    public String applyChatTemplate(List<ChatMessage> messages) {
        return render(messages);
    }

    /** The Granite chat template (spec §2.2) for plain messages, generation prompt appended. */
    public static String render(List<ChatMessage> messages) {
        StringBuilder sb = new StringBuilder();
        int start = 0;
        String system = DEFAULT_SYSTEM;
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            start = 1;
            if (!messages.get(0).content().isEmpty()) system = messages.get(0).content();
        }
        turn(sb, "system", system);
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
                case "user":
                case "system":
                case "assistant":
                    turn(sb, m.role(), m.content());
                    break;
                default:
                    throw new IllegalArgumentException("unknown chat role '" + m.role() + "' in message " + i);
            }
        }
        return sb.append(SOR).append("assistant").append(EOR).toString();
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
    }
}
