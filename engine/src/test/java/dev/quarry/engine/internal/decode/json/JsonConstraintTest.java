package dev.quarry.engine.internal.decode.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.engine.task.ExtractTask;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The automaton and the trie walk on a synthetic vocabulary (no model needed). */
public class JsonConstraintTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int EOS = 0;

    /** Single printable ASCII chars, some multi-char JSON-ish pieces, some junk, one unusable id. */
    static TokenTrie vocabulary() {
        List<String> t = new ArrayList<>();
        t.add("<eos>"); // id 0 = eos
        t.add(null);    // a special token
        for (char c = 32; c < 127; c++) t.add(String.valueOf(c));
        for (String s : new String[] {"{\"", "\":", "\",\"", "\"}", "true", "false", "null", "12", "007", ".5", "-3",
                "},", "\\n", "\\u00", " the", "ing", "\":\"", "[\"", "\"]", "],", "}\n", "\u00e9t\u00e9", "\n", "\t",
                "name", "age", "\":[", "]}", "1.", "e5", "\"a", "\u4e2d"}) {
            t.add(s);
        }
        byte[][] b = new byte[t.size() + 128][];
        for (int i = 0; i < t.size(); i++) b[i] = t.get(i) == null ? null : JsonGrammar.utf8(t.get(i));
        // every non-ASCII byte alone, as in a byte-level BPE vocabulary (partial UTF-8 characters)
        for (int i = 0; i < 128; i++) b[t.size() + i] = new byte[] {(byte) (0x80 + i)};
        return new TokenTrie(b, EOS);
    }

    static String gen(ObjectSpec spec, TokenTrie trie, long seed, List<Integer> idsOut) {
        JsonConstraint c = new JsonConstraint(new JsonGrammar(spec), trie);
        JsonConstraint.Cursor cur = c.start();
        Random r = new Random(seed);
        int steps = 0;
        int bound = new JsonGrammar(spec).maxChars();
        while (!cur.isComplete()) {
            int[] allowed = cur.allowedIds();
            assertTrue(allowed.length > 0, "dead end after " + cur.text());
            for (int a : allowed) assertTrue(a != EOS, "eos before completion");
            int id = allowed[r.nextInt(allowed.length)];
            cur.accept(id);
            if (idsOut != null) idsOut.add(id);
            steps++;
            assertTrue(steps <= bound, "did not terminate within the bound: " + cur.text());
        }
        int[] end = cur.allowedIds();
        assertEquals(1, end.length);
        assertEquals(EOS, end[0]);
        return cur.text();
    }

    @Test
    void fixedSchemaProducesValidJson() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":5},"
                + "\"age\":{\"type\":\"integer\"},\"score\":{\"type\":[\"number\",\"null\"]},"
                + "\"ok\":{\"type\":\"boolean\"},\"color\":{\"enum\":[\"red\",\"green\",null]},"
                + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":3}},\"required\":[\"name\",\"age\"]}";
        ExtractTask task = ExtractTask.builder().schema(schema).build();
        JsonOutput out = new JsonOutput(task.schema(), task.spec());
        TokenTrie trie = vocabulary();
        for (long seed = 0; seed < 300; seed++) {
            String json = gen(task.spec(), trie, seed, null);
            assertNull(out.violations(json), json);
            Map<String, Object> f = out.typedFields(json);
            assertTrue(f.get("name") instanceof String, json);
            assertTrue(f.get("age") instanceof Long, json);
            assertTrue(f.get("score") == null || f.get("score") instanceof Double, json);
            assertTrue(f.get("ok") instanceof Boolean, json);
            assertTrue(f.get("tags") instanceof List && ((List<?>) f.get("tags")).size() <= 3, json);
            String name = (String) f.get("name");
            assertTrue(name.codePointCount(0, name.length()) <= 5, json);
        }
    }

    @Test
    void randomSchemasFuzz() throws Exception {
        TokenTrie trie = vocabulary();
        Random r = new Random(42);
        for (int s = 0; s < 40; s++) {
            JsonNode schema = randomSchema(r);
            ExtractTask task = ExtractTask.builder().schema(schema).maxStringLength(1 + r.nextInt(12)).maxArrayItems(r.nextInt(4)).build();
            JsonOutput out = new JsonOutput(task.schema(), task.spec());
            for (long seed = 0; seed < 25; seed++) {
                String json = gen(task.spec(), trie, seed * 1000 + s, null);
                assertNull(out.violations(json), () -> schema + " -> " + json);
                JsonNode parsed = JSON.readTree(json);
                assertEquals(task.spec().properties().size(), parsed.size(), json);
            }
        }
    }

    public static JsonNode randomSchema(Random r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("type", "object");
        ObjectNode props = root.putObject("properties");
        ArrayNode req = JSON.createArrayNode();
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
            String name = "f" + i + (r.nextBoolean() ? "\"q" : "");
            props.set(name, randomField(r, true));
            if (r.nextBoolean()) req.add(name);
        }
        if (!req.isEmpty()) root.set("required", req);
        if (r.nextBoolean()) root.put("additionalProperties", false);
        return root;
    }

    static ObjectNode randomField(Random r, boolean allowArray) {
        ObjectNode f = JSON.createObjectNode();
        String[] types = {"string", "number", "integer", "boolean", "enum", "array"};
        String t = types[r.nextInt(allowArray ? 6 : 5)];
        boolean nullable = r.nextInt(3) == 0;
        switch (t) {
            case "enum": {
                ArrayNode e = f.putArray("enum");
                int k = 1 + r.nextInt(4);
                for (int i = 0; i < k; i++) e.add(i == 0 ? "a" : "a" + "bcd".substring(0, i) + (r.nextBoolean() ? "\u00e9" : ""));
                if (nullable) e.addNull();
                break;
            }
            case "array":
                f.put("type", "array");
                f.set("items", randomField(r, false));
                if (r.nextBoolean()) f.put("maxItems", r.nextInt(3));
                break;
            default:
                if (nullable) f.putArray("type").add(t).add("null");
                else f.put("type", t);
                if (t.equals("string") && r.nextBoolean()) f.put("maxLength", r.nextInt(4));
        }
        if (r.nextBoolean()) f.put("description", "d");
        return f;
    }

    @Test
    void onlyEosAfterCompleteAndTokensSpanningBoundaries() {
        String schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"boolean\"}}}";
        ExtractTask task = ExtractTask.builder().schema(schema).build();
        TokenTrie trie = vocabulary();
        JsonConstraint c = new JsonConstraint(task.grammar(), trie);
        JsonConstraint.Cursor cur = c.start();
        BitSet first = cur.allowedSet();
        assertEquals(2, first.cardinality(), "only '{' and '{\"' may start");
        assertTrue(first.get(idOf(trie, "{")) && first.get(idOf(trie, "{\"")));
        accept(cur, trie, "{");
        accept(cur, trie, "\"");
        for (char ch : "a\":".toCharArray()) accept(cur, trie, String.valueOf(ch));
        accept(cur, trie, "12");
        // after a number: digits, ',' (next key) - and "}," is not allowed (b is still missing)
        assertFalse(cur.allowedSet().get(idOf(trie, "},")));
        assertTrue(cur.allowedSet().get(idOf(trie, ",")));
        assertThrows(IllegalStateException.class, () -> cur.accept(idOf(trie, ".5")));
        for (char ch : ",\"b\":".toCharArray()) accept(cur, trie, String.valueOf(ch));
        accept(cur, trie, "false");
        assertFalse(cur.allowedSet().get(idOf(trie, "}\n")), "trailing text after the end is not allowed");
        accept(cur, trie, "}");
        assertTrue(cur.isComplete());
        assertEquals("{\"a\":12,\"b\":false}", cur.text());
    }

    @Test
    void stringsAreBoundedAndForcedClosed() {
        String schema = "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"maxLength\":2}}}";
        ExtractTask task = ExtractTask.builder().schema(schema).build();
        TokenTrie trie = vocabulary();
        JsonConstraint.Cursor cur = new JsonConstraint(task.grammar(), trie).start();
        for (char ch : "{\"s\":\"".toCharArray()) accept(cur, trie, String.valueOf(ch));
        accept(cur, trie, "\\n");
        accept(cur, trie, "x");
        BitSet allowed = cur.allowedSet();
        assertTrue(allowed.get(idOf(trie, "\"")));
        assertTrue(allowed.get(idOf(trie, "\"}")));
        assertFalse(allowed.get(idOf(trie, "y")));
        assertFalse(allowed.get(idOf(trie, "\\n")));
    }

    @Test
    void partialUtf8TokensSpellMultiByteCharacters() {
        String schema = "{\"type\":\"object\",\"properties\":{\"c\":{\"enum\":[\"caf\u00e9\",\"cafe\"]},\"s\":{\"type\":\"string\",\"maxLength\":1}}}";
        ExtractTask task = ExtractTask.builder().schema(schema).build();
        TokenTrie trie = vocabulary();
        JsonConstraint.Cursor cur = new JsonConstraint(task.grammar(), trie).start();
        for (char ch : "{\"c\":\"caf".toCharArray()) accept(cur, trie, String.valueOf(ch));
        int c3 = trie.size() - 128 + 0x43; // byte 0xC3
        int a9 = trie.size() - 128 + 0x29; // byte 0xA9
        assertTrue(cur.allowedSet().get(c3));
        assertFalse(cur.allowedSet().get(a9), "a continuation byte cannot start a character");
        cur.accept(c3);
        assertFalse(cur.allowedSet().get(c3));
        cur.accept(a9);
        for (char ch : "\",\"s\":\"".toCharArray()) accept(cur, trie, String.valueOf(ch));
        int e4 = trie.size() - 128 + 0x64; // lead byte of a 3-byte character
        cur.accept(e4);
        assertFalse(cur.allowedSet().get(idOf(trie, "\"")), "no closing quote inside a character");
        cur.accept(trie.size() - 128 + 0x38);
        cur.accept(trie.size() - 128 + 0x2D);
        assertFalse(cur.allowedSet().get(e4), "maxLength 1 reached");
        accept(cur, trie, "\"}");
        assertTrue(cur.isComplete());
        assertEquals("{\"c\":\"caf\u00e9\",\"s\":\"\u4e2d\"}", cur.text());
    }

    @Test
    void byteLevelAlphabetIsABijection() {
        int[] inv = ByteLevelVocabulary.inverseAlphabet();
        boolean[] seen = new boolean[256];
        for (int v : inv) if (v >= 0) { assertFalse(seen[v]); seen[v] = true; }
        for (boolean b : seen) assertTrue(b);
        assertEquals(' ', inv[0x120]); // GPT-2 maps the space byte to U+0120
    }

    @Test
    void maxCharsBoundsTheOutput() {
        String schema = "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"maxLength\":3},\"n\":{\"type\":\"number\"}}}";
        JsonGrammar g = ExtractTask.builder().schema(schema).build().grammar();
        // {"s": + "" with 3 four-byte chars + ,"n": + -15digits.6digits + }
        assertEquals(5 + 14 + 5 + 23 + 1, g.maxChars());
    }

    private static void accept(JsonConstraint.Cursor cur, TokenTrie trie, String text) {
        cur.accept(idOf(trie, text));
    }

    private static int idOf(TokenTrie trie, String text) {
        for (int i = 0; i < trie.size(); i++) if (text.equals(trie.text(i))) return i;
        throw new IllegalArgumentException("no token " + text);
    }
}
