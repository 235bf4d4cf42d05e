package dev.quarry.engine.internal.decode.json;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * A byte trie over the UTF-8 bytes of a tokenizer's vocabulary, built once per codec. Walking it with
 * a {@link JsonGrammar.State} visits only the tokens whose whole text keeps the automaton alive, so
 * the allowed set of one step costs a walk of the live part of the trie, not a pass over every token.
 */
public final class TokenTrie {
    private final byte[][] bytes;
    private final int eosId;
    private final Node root;
    private final int usable;
    private final int longest;

    static final class Node {
        byte[] labels = new byte[0];
        Node[] kids = new Node[0];
        int[] ids = new int[0];
    }

    /**
     * @param bytes per token id the exact bytes it contributes, or null when the token may never be
     *              produced under a constraint (special tokens, empty)
     * @param eosId the end-of-text id (allowed only once the structure is complete)
     */
    public TokenTrie(byte[][] bytes, int eosId) {
        this.bytes = bytes.clone();
        this.eosId = eosId;
        Build b = new Build();
        int n = 0;
        for (int id = 0; id < bytes.length; id++) {
            byte[] t = bytes[id];
            if (t == null || t.length == 0 || id == eosId) { this.bytes[id] = null; continue; }
            b.add(t, id);
            n++;
        }
        this.root = b.freeze();
        this.usable = n;
        int l = 0;
        for (byte[] t : this.bytes) if (t != null) l = Math.max(l, t.length);
        this.longest = l;
    }

    /** Length in bytes of the longest usable token. */
    public int longestToken() { return longest; }

    /** From decoded token texts (null = unusable); texts holding U+FFFD (partial UTF-8) are left out. */
    public static TokenTrie fromTexts(String[] texts, int eosId) {
        byte[][] b = new byte[texts.length][];
        for (int i = 0; i < texts.length; i++) {
            String t = texts[i];
            b[i] = t == null || t.isEmpty() || t.indexOf('\uFFFD') >= 0 ? null : JsonGrammar.utf8(t);
        }
        return new TokenTrie(b, eosId);
    }

    public int size() { return bytes.length; }

    /** Number of tokens usable under a constraint. */
    public int usableTokens() { return usable; }

    public int eosId() { return eosId; }

    /** The bytes of token {@code id}, or null when it is never allowed under a constraint. */
    public byte[] bytes(int id) { return id >= 0 && id < bytes.length ? bytes[id] : null; }

    /** The bytes of token {@code id} as UTF-8 text (for tests and messages). */
    public String text(int id) {
        byte[] b = bytes(id);
        return b == null ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Adds to {@code out} every token whose whole text the state accepts (the state is not changed). */
    public void collect(JsonGrammar.State state, java.util.BitSet out) {
        walk(root, state, out);
    }

    private static void walk(Node node, JsonGrammar.State st, java.util.BitSet out) {
        for (int id : node.ids) out.set(id);
        for (int i = 0; i < node.labels.length; i++) {
            JsonGrammar.State c = st.copy();
            if (c.advance(node.labels[i] & 0xFF)) walk(node.kids[i], c, out);
        }
    }

    private static final class Build {
        final BNode root = new BNode();

        static final class BNode {
            final TreeMap<Integer, BNode> kids = new TreeMap<>();
            final List<Integer> ids = new ArrayList<>(1);
        }

        void add(byte[] t, int id) {
            BNode n = root;
            for (byte x : t) n = n.kids.computeIfAbsent(x & 0xFF, k -> new BNode());
            n.ids.add(id);
        }

        Node freeze() { return freeze(root); }

        private Node freeze(BNode b) {
            Node n = new Node();
            n.ids = b.ids.stream().mapToInt(Integer::intValue).toArray();
            n.labels = new byte[b.kids.size()];
            n.kids = new Node[b.kids.size()];
            int i = 0;
            for (var e : b.kids.entrySet()) {
                n.labels[i] = (byte) (int) e.getKey();
                n.kids[i] = freeze(e.getValue());
                i++;
            }
            return n;
        }
    }

    @Override
    public String toString() { return "TokenTrie{tokens=" + bytes.length + ", usable=" + usable + "}"; }

    static int[] toArray(java.util.BitSet s) { return s.stream().toArray(); }

    static String show(int[] a) { return Arrays.toString(a); }
}
