package dev.quarry.engine.internal.decode.json;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * A character trie over the texts of a tokenizer's vocabulary, built once per codec. Walking it with
 * a {@link JsonGrammar.State} visits only the tokens whose whole text keeps the automaton alive, so
 * the allowed set of one step costs a walk of the live part of the trie, not a pass over every token.
 */
public final class TokenTrie {
    private final String[] texts;
    private final int eosId;
    private final Node root;
    private final int usable;

    static final class Node {
        char[] labels = new char[0];
        Node[] kids = new Node[0];
        int[] ids = new int[0];
    }

    /**
     * @param texts per token id the exact text it contributes, or null when the token may never be
     *              produced under a constraint (special tokens, partial UTF-8 sequences, empty)
     * @param eosId the end-of-text id (allowed only once the structure is complete)
     */
    public TokenTrie(String[] texts, int eosId) {
        this.texts = texts.clone();
        this.eosId = eosId;
        Build b = new Build();
        int n = 0;
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            if (t == null || t.isEmpty() || id == eosId) { this.texts[id] = null; continue; }
            b.add(t, id);
            n++;
        }
        this.root = b.freeze();
        this.usable = n;
    }

    public int size() { return texts.length; }

    /** Number of tokens usable under a constraint. */
    public int usableTokens() { return usable; }

    public int eosId() { return eosId; }

    /** The text of token {@code id}, or null when it is never allowed under a constraint. */
    public String text(int id) { return id >= 0 && id < texts.length ? texts[id] : null; }

    /** Adds to {@code out} every token whose whole text the state accepts (the state is not changed). */
    public void collect(JsonGrammar.State state, java.util.BitSet out) {
        walk(root, state, out);
    }

    private static void walk(Node node, JsonGrammar.State st, java.util.BitSet out) {
        for (int id : node.ids) out.set(id);
        for (int i = 0; i < node.labels.length; i++) {
            JsonGrammar.State c = st.copy();
            if (c.advance(node.labels[i])) walk(node.kids[i], c, out);
        }
    }

    private static final class Build {
        final BNode root = new BNode();

        static final class BNode {
            final TreeMap<Character, BNode> kids = new TreeMap<>();
            final List<Integer> ids = new ArrayList<>(1);
        }

        void add(String t, int id) {
            BNode n = root;
            for (int i = 0; i < t.length(); i++) n = n.kids.computeIfAbsent(t.charAt(i), k -> new BNode());
            n.ids.add(id);
        }

        Node freeze() { return freeze(root); }

        private Node freeze(BNode b) {
            Node n = new Node();
            n.ids = b.ids.stream().mapToInt(Integer::intValue).toArray();
            n.labels = new char[b.kids.size()];
            n.kids = new Node[b.kids.size()];
            int i = 0;
            for (var e : b.kids.entrySet()) {
                n.labels[i] = e.getKey();
                n.kids[i] = freeze(e.getValue());
                i++;
            }
            return n;
        }
    }

    @Override
    public String toString() { return "TokenTrie{tokens=" + texts.length + ", usable=" + usable + "}"; }

    static int[] toArray(java.util.BitSet s) { return s.stream().toArray(); }

    static String show(int[] a) { return Arrays.toString(a); }
}
