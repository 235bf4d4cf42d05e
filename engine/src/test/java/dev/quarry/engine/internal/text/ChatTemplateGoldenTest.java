package dev.quarry.engine.internal.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quarry.engine.ChatMessage;
import dev.quarry.engine.ChatTemplateInput;
import dev.quarry.engine.ToolCall;
import dev.quarry.engine.checkpoint.CheckpointMaker;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java chat template against transformers' {@code apply_chat_template} over the jinja template that
 * CheckpointMaker writes: {@code chat/chat-template-goldens.json} from {@code make_chat_goldens.py}.
 */
class ChatTemplateGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode goldens() throws Exception {
        try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/chat/chat-template-goldens.json")) {
            return JSON.readTree(in);
        }
    }

    /** A golden case's messages/tools/documents in Hugging Face form, as Quarry's input. */
    static ChatTemplateInput input(JsonNode c) {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : c.get("messages")) {
            List<ToolCall> calls = new ArrayList<>();
            for (JsonNode tc : m.path("tool_calls")) {
                JsonNode f = tc.has("function") ? tc.get("function") : tc;
                calls.add(ToolCall.of(f.get("name").textValue(), f.get("arguments")));
            }
            messages.add(new ChatMessage(m.get("role").textValue(), m.get("content").textValue(), calls));
        }
        List<JsonNode> tools = new ArrayList<>();
        c.path("tools").forEach(tools::add);
        List<JsonNode> docs = new ArrayList<>();
        c.path("documents").forEach(docs::add);
        return new ChatTemplateInput(messages, tools, docs);
    }

    @TestFactory
    Stream<DynamicTest> renderingEqualsTransformersByteForByte() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : goldens().get("cases")) {
            String name = c.get("name").textValue();
            tests.add(DynamicTest.dynamicTest(name, () -> assertEquals(c.get("expected").textValue(),
                    GraniteTextCodec.render(input(c)), "case " + name)));
        }
        assertTrue(tests.size() >= 15, "golden file lists its cases");
        return tests.stream();
    }

    @Test
    void tokenIdsEqualTransformersOnAMakerCheckpoint(@TempDir Path dir) throws Exception {
        JsonNode g = goldens();
        CheckpointMaker.make("tiny-hybrid", 1, dir, CheckpointMaker.DTYPE_F32, 1);
        String template = JSON.readTree(dir.resolve("tokenizer_config.json").toFile()).get("chat_template").textValue();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(template.getBytes(StandardCharsets.UTF_8)));
        assertEquals(g.get("chat_template_sha256").textValue(), sha,
                "the jinja chat_template changed since the goldens were made: rerun make_chat_goldens.py");
        int checked = 0;
        try (GraniteTextCodec codec = GraniteTextCodec.open(dir.resolve("tokenizer.json"))) {
            for (JsonNode c : g.get("cases")) {
                if (!c.has("ids")) continue;
                int[] expected = JSON.treeToValue(c.get("ids"), int[].class);
                assertArrayEquals(expected, codec.encode(codec.applyChatTemplate(input(c))), "ids of " + c.get("name"));
                checked++;
            }
        }
        assertTrue(checked >= 3, "golden file has token ids for several cases");
    }
}
