package dev.quarry.engine.internal.decode.json;

import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token-level constrained decoding of one {@link JsonGrammar} over one {@link TokenTrie}: shared by all
 * sequences of a task (thread-safe), it memoises the allowed-token set per automaton state (states
 * repeat across records: same key, same string length...). Each sequence holds a {@link Cursor}.
 */
public final class JsonConstraint {
    /** Memoised allowed sets kept per constraint (each is one bit per vocabulary entry). */
    public static final int MEMO_ENTRIES = 2048;

    private final JsonGrammar grammar;
    private final TokenTrie trie;
    private final Map<JsonGrammar.State, BitSet> memo = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<JsonGrammar.State, BitSet> e) {
            return size() > MEMO_ENTRIES;
        }
    };

    public JsonConstraint(JsonGrammar grammar, TokenTrie trie) {
        this.grammar = grammar;
        this.trie = trie;
    }

    public JsonGrammar grammar() { return grammar; }

    public TokenTrie trie() { return trie; }

    public Cursor start() { return new Cursor(grammar.start()); }

    BitSet allowed(JsonGrammar.State state) {
        JsonGrammar.State s = state.canonical(trie.longestToken());
        synchronized (memo) {
            BitSet b = memo.get(s);
            if (b != null) return b;
        }
        BitSet out = new BitSet(trie.size());
        if (s.isComplete()) {
            out.set(trie.eosId());
        } else {
            trie.collect(s, out);
        }
        synchronized (memo) {
            memo.put(s.copy(), out);
        }
        return out;
    }

    /** Decoding progress of one sequence. Not thread-safe. */
    public final class Cursor {
        private JsonGrammar.State state;
        private final java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();

        private Cursor(JsonGrammar.State s) { this.state = s; }

        /** Allowed token ids for the next step (do not modify). Only end-of-text once complete. */
        public BitSet allowedSet() { return allowed(state); }

        public int[] allowedIds() { return allowed(state).stream().toArray(); }

        /** Appends a token; fails if it is not allowed (a decoder bug, never a model choice). */
        public void accept(int id) {
            if (state.isComplete()) {
                if (id == trie.eosId()) return;
                throw new IllegalStateException("token " + id + " after the JSON was complete");
            }
            byte[] t = trie.bytes(id);
            if (t == null) throw new IllegalStateException("token " + id + " is not allowed under the JSON constraint");
            JsonGrammar.State probe = state.copy();
            if (!probe.advance(t)) {
                throw new IllegalStateException("token " + id + " (" + trie.text(id) + ") breaks the JSON constraint after '" + text() + "'");
            }
            state = probe;
            text.writeBytes(t);
        }

        public boolean isComplete() { return state.isComplete(); }

        /** The JSON text so far. */
        public String text() { return text.toString(java.nio.charset.StandardCharsets.UTF_8); }
    }
}
