package dev.quarry.engine.internal.text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON text exactly as Hugging Face's chat-template {@code tojson} filter writes it, i.e. Python's
 * {@code json.dumps(x, ensure_ascii=False)}: {@code ", "} and {@code ": "} separators, keys in the node's
 * order, non-ASCII written as is, control characters as {@code \n}-style or {@code \\u00xx} escapes (lower-case hex),
 * floats as Python's {@code repr} (shortest round-trip digits, exponent below 1e-4 and from 1e16), integers
 * exactly, NaN/Infinity as Python writes them.
 */
final class PyJson {
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final PyEscapes ESCAPES = new PyEscapes();

    private PyJson() {}

    static String dumps(JsonNode node) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            g.setPrettyPrinter(new PySeparators());
            g.setCharacterEscapes(ESCAPES);
            write(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    private static void write(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> e = it.next();
                    g.writeFieldName(e.getKey());
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode v : n) write(g, v);
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case NUMBER -> {
                if (n.isIntegralNumber()) g.writeNumber(n.bigIntegerValue());
                else g.writeNumber(pyFloat(n.doubleValue()));
            }
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NULL -> g.writeNull();
            default -> throw new IllegalArgumentException("not a JSON value: a " + n.getNodeType() + " node");
        }
    }

    /** Python's {@code repr(float)}. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(d);
        BigDecimal r = exact;
        for (int p = 1; p <= 17; p++) {
            r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) break;
        }
        r = r.stripTrailingZeros();
        String digits = r.unscaledValue().abs().toString();
        int decpt = digits.length() - r.scale(); // value = 0.DIGITS x 10^decpt
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (decpt <= -4 || decpt > 16) {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
            int exp = decpt - 1;
            sb.append('e').append(exp < 0 ? '-' : '+');
            if (Math.abs(exp) < 10) sb.append('0');
            sb.append(Math.abs(exp));
        } else if (decpt <= 0) {
            sb.append("0.").append("0".repeat(-decpt)).append(digits);
        } else if (decpt < digits.length()) {
            sb.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
        } else {
            sb.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
        }
        return sb.toString();
    }

    /** Python's default {@code json.dumps} separators: {@code ", "} and {@code ": "}. */
    private static final class PySeparators extends MinimalPrettyPrinter {
        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException { g.writeRaw(": "); }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException { g.writeRaw(", "); }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException { g.writeRaw(", "); }
    }

    /** Control characters without a short escape become lower-case {@code \\u00xx}, as in Python. */
    private static final class PyEscapes extends CharacterEscapes {
        private final int[] codes;

        PyEscapes() {
            codes = standardAsciiEscapesForJSON();
            for (int c = 0; c < 0x20; c++) {
                if (codes[c] == ESCAPE_STANDARD) codes[c] = ESCAPE_CUSTOM;
            }
        }

        @Override
        public int[] getEscapeCodesForAscii() { return codes; }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            // Jackson also asks about non-ASCII characters: those are written as they are (null)
            return ch < 0x20 ? new SerializedString(String.format("\\u%04x", ch)) : null;
        }
    }
}
