package dev.quarry.engine.internal.decode.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * The exact bytes of every token of a byte-level BPE {@code tokenizer.json} (GPT-2 style byte-to-unicode
 * alphabet, as Granite uses), including tokens that hold only part of a multi-byte UTF-8 character.
 * Special added tokens get null (never produced under a constraint).
 */
public final class ByteLevelVocabulary {
    private ByteLevelVocabulary() {}

    /** Null when the tokenizer is not byte-level BPE (callers then fall back to decoded texts). */
    public static byte[][] read(Path tokenizerJson, int size) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText()) || !mentionsByteLevel(root.path("decoder"))) return null;
        int[] inverse = inverseAlphabet();
        byte[][] out = new byte[size][];
        Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt();
            if (id < 0 || id >= size) continue;
            String t = e.getKey();
            byte[] b = new byte[t.length()];
            boolean ok = true;
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                int v = c < inverse.length ? inverse[c] : -1;
                if (v < 0) { ok = false; break; }
                b[i] = (byte) v;
            }
            out[id] = ok ? b : null;
        }
        for (JsonNode a : root.path("added_tokens")) {
            int id = a.path("id").asInt(-1);
            if (id < 0 || id >= size) continue;
            out[id] = a.path("special").asBoolean(false) ? null : a.path("content").asText().getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    private static boolean mentionsByteLevel(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) return false;
        if ("ByteLevel".equals(n.path("type").asText())) return true;
        for (JsonNode c : n.path("decoders")) if (mentionsByteLevel(c)) return true;
        return false;
    }

    /** char of the byte-level alphabet -> byte value (-1 when not in the alphabet). */
    static int[] inverseAlphabet() {
        int[] inv = new int[512];
        java.util.Arrays.fill(inv, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable) inv[b] = b;
            else inv[256 + n++] = b;
        }
        return inv;
    }
}
