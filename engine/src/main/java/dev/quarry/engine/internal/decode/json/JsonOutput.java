package dev.quarry.engine.internal.decode.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Validation (networknt json-schema-validator) and typed conversion of constrained-decoding output. */
public final class JsonOutput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    private final JsonSchema schema;
    private final ObjectSpec spec;

    public JsonOutput(JsonNode schema, ObjectSpec spec) {
        this.schema = FACTORY.getSchema(schema);
        this.spec = spec;
    }

    /** Null when {@code json} parses and validates; otherwise the reasons. */
    public String violations(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (Exception e) {
            return "not valid JSON: " + e.getMessage();
        }
        if (node == null) return "empty output";
        Set<ValidationMessage> msgs = schema.validate(node);
        if (msgs.isEmpty()) return null;
        return msgs.stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.joining("; "));
    }

    /** Typed fields: Long for integer, Double for number, Boolean, String, List, or null. */
    public Map<String, Object> typedFields(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (ObjectSpec.Property p : spec.properties()) {
            JsonNode v = node.get(p.name());
            if (v == null) continue;
            out.put(p.name(), convert(v, p.spec()));
        }
        return out;
    }

    private static Object convert(JsonNode v, FieldSpec f) {
        if (v == null || v.isNull()) return null;
        switch (f.kind()) {
            case INTEGER: return v.asLong();
            case NUMBER: return v.asDouble();
            case BOOLEAN: return v.asBoolean();
            case STRING:
            case ENUM: return v.asText();
            case ARRAY: {
                List<Object> l = new ArrayList<>();
                for (JsonNode e : v) l.add(convert(e, f.item()));
                return l;
            }
            default: throw new IllegalStateException();
        }
    }
}
