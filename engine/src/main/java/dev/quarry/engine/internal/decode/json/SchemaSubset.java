package dev.quarry.engine.internal.decode.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses and checks the JSON Schema subset that constrained decoding supports:
 *
 * <pre>
 * root:     {"type": "object", "properties": {...}, "required": [...], "additionalProperties": false?}
 * property: {"type": "string" | "number" | "integer" | "boolean" | "array" | [T, "null"],
 *            "enum": [strings] (optionally with null), "items": {scalar property} (arrays),
 *            "maxLength" (string), "maxItems" (array), "description", "title"}
 * </pre>
 *
 * Any other keyword fails with a message naming its JSON pointer.
 */
public final class SchemaSubset {
    /** Enum alternatives are tracked in a 64-bit mask (one bit kept for null). */
    public static final int MAX_ENUM_VALUES = 63;

    private static final Set<String> ROOT_KEYWORDS = Set.of("type", "properties", "required",
            "additionalProperties", "title", "description", "$schema", "$id");
    private static final Set<String> PROPERTY_KEYWORDS = Set.of("type", "enum", "items", "maxLength", "maxItems",
            "description", "title");

    private SchemaSubset() {}

    /**
     * @param defaultMaxLength bound on string length when the schema gives no (smaller) maxLength
     * @param defaultMaxItems  bound on array length when the schema gives no (smaller) maxItems
     */
    public static ObjectSpec parse(JsonNode root, int defaultMaxLength, int defaultMaxItems) {
        if (root == null || !root.isObject()) throw err("", "the schema must be a JSON object");
        checkKeywords(root, ROOT_KEYWORDS, "");
        JsonNode type = root.get("type");
        if (type == null || !type.isTextual() || !type.asText().equals("object"))
            throw err("/type", "the root must have \"type\": \"object\"");
        JsonNode ap = root.get("additionalProperties");
        if (ap != null && !(ap.isBoolean() && !ap.asBoolean()))
            throw err("/additionalProperties", "only additionalProperties: false is supported");
        JsonNode props = root.get("properties");
        List<ObjectSpec.Property> out = new ArrayList<>();
        if (props != null) {
            if (!props.isObject()) throw err("/properties", "must be an object");
            Iterator<Map.Entry<String, JsonNode>> it = props.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String ptr = "/properties/" + e.getKey();
                out.add(new ObjectSpec.Property(e.getKey(), parseField(e.getValue(), ptr, defaultMaxLength, defaultMaxItems, true)));
            }
        }
        List<String> required = new ArrayList<>();
        JsonNode req = root.get("required");
        if (req != null) {
            if (!req.isArray()) throw err("/required", "must be an array of property names");
            Set<String> names = new HashSet<>();
            out.forEach(p -> names.add(p.name()));
            for (JsonNode r : req) {
                if (!r.isTextual()) throw err("/required", "must be an array of property names");
                if (!names.contains(r.asText()))
                    throw err("/required", "names '" + r.asText() + "' which is not a property");
                required.add(r.asText());
            }
        }
        return new ObjectSpec(out, required);
    }

    private static FieldSpec parseField(JsonNode n, String ptr, int maxLen, int maxItems, boolean arrayAllowed) {
        if (!n.isObject()) throw err(ptr, "a property schema must be an object");
        checkKeywords(n, PROPERTY_KEYWORDS, ptr);
        boolean nullable = false;
        String typeName = null;
        JsonNode t = n.get("type");
        if (t != null) {
            if (t.isTextual()) {
                typeName = t.asText();
            } else if (t.isArray() && t.size() == 2 && t.get(0).isTextual() && t.get(1).isTextual()
                    && (t.get(0).asText().equals("null") || t.get(1).asText().equals("null"))
                    && !t.get(0).asText().equals(t.get(1).asText())) {
                nullable = true;
                typeName = t.get(0).asText().equals("null") ? t.get(1).asText() : t.get(0).asText();
            } else {
                throw err(ptr + "/type", "must be a type name or [type, \"null\"]");
            }
        }
        JsonNode en = n.get("enum");
        if (en != null) {
            if (!en.isArray() || en.isEmpty()) throw err(ptr + "/enum", "must be a non-empty array");
            if (typeName != null && !typeName.equals("string"))
                throw err(ptr + "/enum", "only string enums are supported");
            List<String> values = new ArrayList<>();
            for (JsonNode v : en) {
                if (v.isNull()) { nullable = true; continue; }
                if (!v.isTextual()) throw err(ptr + "/enum", "only string (and null) enum values are supported, got " + v);
                if (!values.contains(v.asText())) values.add(v.asText());
            }
            if (values.isEmpty()) throw err(ptr + "/enum", "needs at least one string value");
            if (values.size() > MAX_ENUM_VALUES) throw err(ptr + "/enum", "at most " + MAX_ENUM_VALUES + " values are supported");
            if (n.has("maxLength")) throw err(ptr + "/maxLength", "not supported together with enum");
            if (n.has("items")) throw err(ptr + "/items", "not supported together with enum");
            return new FieldSpec(FieldSpec.Kind.ENUM, nullable, 0, values, null, 0);
        }
        if (typeName == null) throw err(ptr, "needs \"type\" or \"enum\"");
        if (n.has("maxLength") && !typeName.equals("string")) throw err(ptr + "/maxLength", "only applies to strings");
        if (n.has("maxItems") && !typeName.equals("array")) throw err(ptr + "/maxItems", "only applies to arrays");
        if (n.has("items") && !typeName.equals("array")) throw err(ptr + "/items", "only applies to arrays");
        switch (typeName) {
            case "string": {
                int len = maxLen;
                JsonNode ml = n.get("maxLength");
                if (ml != null) {
                    if (!ml.isIntegralNumber() || !ml.canConvertToInt() || ml.asInt() < 0) throw err(ptr + "/maxLength", "must be an integer >= 0, got " + ml);
                    len = Math.min(len, ml.asInt());
                }
                return new FieldSpec(FieldSpec.Kind.STRING, nullable, len, null, null, 0);
            }
            case "number": return new FieldSpec(FieldSpec.Kind.NUMBER, nullable, 0, null, null, 0);
            case "integer": return new FieldSpec(FieldSpec.Kind.INTEGER, nullable, 0, null, null, 0);
            case "boolean": return new FieldSpec(FieldSpec.Kind.BOOLEAN, nullable, 0, null, null, 0);
            case "array": {
                if (!arrayAllowed) throw err(ptr, "arrays of arrays are not supported");
                JsonNode items = n.get("items");
                if (items == null) throw err(ptr, "an array needs \"items\"");
                FieldSpec item = parseField(items, ptr + "/items", maxLen, maxItems, false);
                int mi = maxItems;
                JsonNode mx = n.get("maxItems");
                if (mx != null) {
                    if (!mx.isIntegralNumber() || !mx.canConvertToInt() || mx.asInt() < 0) throw err(ptr + "/maxItems", "must be an integer >= 0, got " + mx);
                    mi = Math.min(mi, mx.asInt());
                }
                return new FieldSpec(FieldSpec.Kind.ARRAY, nullable, 0, null, item, mi);
            }
            case "object": throw err(ptr + "/type", "nested objects are not supported");
            default: throw err(ptr + "/type", "unsupported type '" + typeName + "'");
        }
    }

    private static void checkKeywords(JsonNode n, Set<String> allowed, String ptr) {
        Iterator<String> it = n.fieldNames();
        while (it.hasNext()) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw err(ptr + "/" + k, "unsupported keyword '" + k + "' (supported here: " + new java.util.TreeSet<>(allowed) + ")");
            }
        }
    }

    private static IllegalArgumentException err(String ptr, String msg) {
        return new IllegalArgumentException("extract: schema " + (ptr.isEmpty() ? "root" : "at " + ptr) + ": " + msg);
    }
}
