package dev.quarry.engine.internal.decode.json;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.ArrayList;
import java.util.List;

/**
 * A character-level automaton for the JSON text of one {@link ObjectSpec}: compact JSON (no
 * whitespace), every property emitted in schema order, strings and numbers of bounded length, arrays
 * of bounded size. Every accepted string is valid JSON that validates against the schema, and every
 * path reaches {@link State#isComplete()} within {@link #maxChars()} characters, so constrained
 * decoding always terminates.
 *
 * <p>Immutable and shared; decoding progress lives in {@link State} (small, copyable, with value
 * equality so allowed-token sets can be memoised per state).
 */
public final class JsonGrammar {
    /** Most integer digits of a number (keeps integers inside a Java long). */
    public static final int MAX_INT_DIGITS = 15;
    /** Most fraction digits of a number. */
    public static final int MAX_FRACTION_DIGITS = 6;

    private static final int P_LIT = 0, P_VALUE = 1, P_STRING = 2, P_NUMBER = 3, P_ALT = 4,
            P_ARR_OPEN = 5, P_ARR_AFTER_ITEM = 6, P_ARR_ITEM = 7, P_DONE = 8;

    private final ObjectSpec spec;
    /** literals[i] for i < n: the UTF-8 key literal before property i; literals[n]: the closing brace. */
    private final byte[][] literals;
    /** Per property: UTF-8 alternatives for literal values (true/false/null/enum) of the property itself and of its items. */
    private final byte[][][] propAlts;
    private final byte[][][] itemAlts;
    private final int maxChars;

    public JsonGrammar(ObjectSpec spec) {
        this.spec = spec;
        int n = spec.properties().size();
        literals = new byte[n + 1][];
        propAlts = new byte[n][][];
        itemAlts = new byte[n][][];
        int total = 0;
        for (int i = 0; i < n; i++) {
            ObjectSpec.Property p = spec.properties().get(i);
            literals[i] = utf8((i == 0 ? "{" : ",") + quote(p.name()) + ":");
            propAlts[i] = alternatives(p.spec());
            itemAlts[i] = p.spec().item() == null ? new byte[0][] : alternatives(p.spec().item());
            total += literals[i].length + maxValueChars(p.spec());
        }
        literals[n] = utf8(n == 0 ? "{}" : "}");
        total += literals[n].length;
        this.maxChars = total;
    }

    public ObjectSpec spec() { return spec; }

    /** Upper bound on the length in UTF-8 bytes of any accepted text. */
    public int maxChars() { return maxChars; }

    public State start() {
        State s = new State(this);
        s.phase = P_LIT;
        s.prop = 0;
        s.pos = 0;
        if (spec.properties().isEmpty()) s.prop = 0;
        return s;
    }

    static String quote(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    static byte[] utf8(String s) { return s.getBytes(java.nio.charset.StandardCharsets.UTF_8); }

    private static byte[][] alternatives(FieldSpec f) {
        List<byte[]> alts = new ArrayList<>();
        if (f.kind() == FieldSpec.Kind.BOOLEAN) { alts.add(utf8("true")); alts.add(utf8("false")); }
        if (f.kind() == FieldSpec.Kind.ENUM) for (String v : f.enumValues()) alts.add(utf8(quote(v)));
        if (f.nullable()) alts.add(utf8("null"));
        return alts.toArray(new byte[0][]);
    }

    private static int maxValueChars(FieldSpec f) {
        int m = f.nullable() ? 4 : 0;
        switch (f.kind()) {
            case STRING: m = Math.max(m, 2 + 4 * f.maxLength()); break;
            case NUMBER: m = Math.max(m, 1 + MAX_INT_DIGITS + 1 + MAX_FRACTION_DIGITS); break;
            case INTEGER: m = Math.max(m, 1 + MAX_INT_DIGITS); break;
            case BOOLEAN: m = Math.max(m, 5); break;
            case ENUM: for (String v : f.enumValues()) m = Math.max(m, utf8(quote(v)).length); break;
            case ARRAY: m = Math.max(m, 2 + f.maxItems() * (maxValueChars(f.item()) + 1)); break;
            default: throw new IllegalStateException();
        }
        return m;
    }

    /**
     * Decoding progress over UTF-8 bytes (so tokens holding part of a multi-byte character work).
     * Mutable; {@link #copy()} is cheap. {@link #advance(int)} returns false and leaves the state
     * unusable when the byte is not allowed.
     */
    public static final class State {
        private final JsonGrammar g;
        int phase, prop, pos;
        boolean inArray;
        int items;
        // strings
        int len;
        boolean esc;
        // numbers: numPhase 0 after '-', 1 int digits, 2 after '.', 3 fraction digits
        int numPhase, intDigits, fracDigits;
        boolean zeroLead;
        // literal alternatives still alive
        long alive;
        // UTF-8 inside strings: continuation bytes still expected and the allowed range of the next one
        int pend, lo, hi;

        State(JsonGrammar g) { this.g = g; }

        public State copy() {
            State s = new State(g);
            s.phase = phase; s.prop = prop; s.pos = pos; s.inArray = inArray; s.items = items;
            s.len = len; s.esc = esc; s.numPhase = numPhase; s.intDigits = intDigits; s.fracDigits = fracDigits;
            s.zeroLead = zeroLead; s.alive = alive; s.pend = pend; s.lo = lo; s.hi = hi;
            return s;
        }

        public boolean isComplete() { return phase == P_DONE; }

        /**
         * A state with the same allowed-token set when at least {@code longestToken} more code points
         * fit in the current string (the exact length then does not matter); otherwise this state.
         */
        State canonical(int longestToken) {
            if (phase != P_STRING || esc || pend != 0 || len == 0) return this;
            if (current().maxLength() - len < longestToken) return this;
            State c = copy();
            c.len = 0;
            return c;
        }

        /** Advances over the UTF-8 bytes of {@code s}; false if any is not allowed. */
        public boolean advance(CharSequence s) {
            return advance(utf8(s.toString()));
        }

        /** Advances over {@code bytes}; false if any is not allowed. */
        public boolean advance(byte[] bytes) {
            for (byte b : bytes) if (!advance(b & 0xFF)) return false;
            return true;
        }

        private FieldSpec current() {
            FieldSpec f = g.spec.properties().get(prop).spec();
            return inArray ? f.item() : f;
        }

        private byte[][] currentAlts() { return inArray ? g.itemAlts[prop] : g.propAlts[prop]; }

        /** Advances over one byte (0..255). */
        public boolean advance(int c) {
            switch (phase) {
                case P_LIT: {
                    byte[] lit = g.literals[prop];
                    if ((lit[pos] & 0xFF) != c) return false;
                    pos++;
                    if (pos == lit.length) {
                        if (prop == g.literals.length - 1) phase = P_DONE;
                        else phase = P_VALUE;
                    }
                    return true;
                }
                case P_VALUE:
                case P_ARR_ITEM:
                    return startValue(c, phase == P_VALUE);
                case P_ARR_OPEN:
                    if (c == ']') { inArray = false; return finishValue(); }
                    if (items >= g.spec.properties().get(prop).spec().maxItems()) return false;
                    return startValue(c, false);
                case P_ARR_AFTER_ITEM:
                    if (c == ']') { inArray = false; return finishValue(); }
                    if (c == ',' && items < g.spec.properties().get(prop).spec().maxItems()) { phase = P_ARR_ITEM; return true; }
                    return false;
                case P_STRING: {
                    if (pend > 0) {
                        if (c < lo || c > hi) return false;
                        pend--; lo = 0x80; hi = 0xBF;
                        return true;
                    }
                    int max = current().maxLength();
                    if (esc) {
                        if (c >= 0x80 || "\"\\/bfnrt".indexOf(c) < 0) return false;
                        esc = false;
                        len++;
                        return true;
                    }
                    if (c == '"') return finishValue();
                    if (len >= max) return false;
                    if (c == '\\') { esc = true; return true; }
                    if (c < 0x20 || c == 0x7F) return false;
                    if (c < 0x80) { len++; return true; }
                    // a UTF-8 lead byte: one more character (code point), with its continuation bytes to come
                    lo = 0x80; hi = 0xBF;
                    if (c >= 0xC2 && c <= 0xDF) pend = 1;
                    else if (c >= 0xE0 && c <= 0xEF) {
                        pend = 2;
                        if (c == 0xE0) lo = 0xA0;
                        if (c == 0xED) hi = 0x9F;
                    } else if (c >= 0xF0 && c <= 0xF4) {
                        pend = 3;
                        if (c == 0xF0) lo = 0x90;
                        if (c == 0xF4) hi = 0x8F;
                    } else return false;
                    len++;
                    return true;
                }
                case P_NUMBER: {
                    boolean integer = current().kind() == FieldSpec.Kind.INTEGER;
                    boolean digit = c >= '0' && c <= '9';
                    switch (numPhase) {
                        case 0:
                            if (!digit) return false;
                            numPhase = 1; intDigits = 1; zeroLead = c == '0';
                            return true;
                        case 1:
                            if (digit) {
                                if (zeroLead || intDigits >= MAX_INT_DIGITS) return false;
                                intDigits++;
                                return true;
                            }
                            if (c == '.' && !integer) { numPhase = 2; return true; }
                            return finishValue() && advance(c);
                        case 2:
                            if (!digit) return false;
                            numPhase = 3; fracDigits = 1;
                            return true;
                        default:
                            if (digit) {
                                if (fracDigits >= MAX_FRACTION_DIGITS) return false;
                                fracDigits++;
                                return true;
                            }
                            return finishValue() && advance(c);
                    }
                }
                case P_ALT: {
                    byte[][] alts = currentAlts();
                    long next = 0;
                    boolean done = false;
                    for (int i = 0; i < alts.length; i++) {
                        if ((alive & (1L << i)) != 0 && pos < alts[i].length && (alts[i][pos] & 0xFF) == c) {
                            next |= 1L << i;
                            if (pos + 1 == alts[i].length) done = true;
                        }
                    }
                    if (next == 0) return false;
                    alive = next;
                    pos++;
                    if (done) return finishValue();
                    return true;
                }
                default:
                    return false;
            }
        }

        private boolean startValue(int c, boolean propertyLevel) {
            FieldSpec f = current();
            byte[][] alts = currentAlts();
            long m = 0;
            for (int i = 0; i < alts.length; i++) if ((alts[i][0] & 0xFF) == c) m |= 1L << i;
            if (m != 0) {
                phase = P_ALT; alive = m; pos = 1;
                return true;
            }
            switch (f.kind()) {
                case STRING:
                    if (c != '"') return false;
                    phase = P_STRING; len = 0; esc = false;
                    return true;
                case NUMBER:
                case INTEGER:
                    if (c == '-') { phase = P_NUMBER; numPhase = 0; intDigits = 0; fracDigits = 0; zeroLead = false; return true; }
                    if (c >= '0' && c <= '9') {
                        phase = P_NUMBER; numPhase = 1; intDigits = 1; fracDigits = 0; zeroLead = c == '0';
                        return true;
                    }
                    return false;
                case ARRAY:
                    if (!propertyLevel || c != '[') return false;
                    phase = P_ARR_OPEN; inArray = true; items = 0;
                    return true;
                default:
                    return false;
            }
        }

        /** The current value is complete: move to what follows it. */
        private boolean finishValue() {
            len = 0; esc = false; numPhase = 0; intDigits = 0; fracDigits = 0; zeroLead = false; alive = 0;
            pend = 0; lo = 0; hi = 0;
            if (inArray) {
                items++;
                phase = P_ARR_AFTER_ITEM;
                pos = 0;
                return true;
            }
            items = 0;
            prop++;
            phase = P_LIT;
            pos = 0;
            return true;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof State)) return false;
            State s = (State) o;
            return g == s.g && phase == s.phase && prop == s.prop && pos == s.pos && inArray == s.inArray
                    && items == s.items && len == s.len && esc == s.esc && numPhase == s.numPhase
                    && intDigits == s.intDigits && fracDigits == s.fracDigits && zeroLead == s.zeroLead
                    && alive == s.alive && pend == s.pend && lo == s.lo && hi == s.hi;
        }

        @Override
        public int hashCode() {
            int h = phase;
            h = h * 31 + prop; h = h * 31 + pos; h = h * 31 + (inArray ? 1 : 0); h = h * 31 + items;
            h = h * 31 + len; h = h * 31 + (esc ? 1 : 0); h = h * 31 + numPhase; h = h * 31 + intDigits;
            h = h * 31 + fracDigits; h = h * 31 + (zeroLead ? 1 : 0); h = h * 31 + Long.hashCode(alive);
            h = h * 31 + pend; h = h * 31 + lo; h = h * 31 + hi;
            return h;
        }
    }
}
