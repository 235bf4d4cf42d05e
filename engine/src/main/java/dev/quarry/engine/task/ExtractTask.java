package dev.quarry.engine.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.decode.json.JsonGrammar;
import dev.quarry.engine.internal.decode.json.ObjectSpec;
import dev.quarry.engine.internal.decode.json.SchemaSubset;
import java.util.Objects;

/**
 * Extraction: constrained decoding against a JSON Schema subset (see {@link SchemaSubset}): an object
 * whose properties are strings, numbers, integers, booleans, string enums, nullable variants
 * ({@code ["string", "null"]}) and arrays of those, with {@code required}. Every token that would
 * break the schema is masked, every property is emitted in schema order, and lengths are bounded
 * ({@link #DEFAULT_MAX_STRING_LENGTH}, {@link #DEFAULT_MAX_ARRAY_ITEMS}), so decoding always
 * terminates and the output always parses and validates. An unsupported keyword fails at build with
 * a message naming it. Immutable; build with {@link #builder()}.
 */
public final class ExtractTask implements Task {
    public static final String DEFAULT_INSTRUCTION =
            "Extract the requested fields from the text. Reply with one JSON object that matches this JSON Schema:";
    /** Strings are cut (closed) at this many characters unless the schema's maxLength is smaller. */
    public static final int DEFAULT_MAX_STRING_LENGTH = 64;
    /** Arrays are closed after this many items unless the schema's maxItems is smaller. */
    public static final int DEFAULT_MAX_ARRAY_ITEMS = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode schema;
    private final String schemaJson;
    private final ObjectSpec spec;
    private final JsonGrammar grammar;
    private final String instruction;
    private final String systemPrompt;
    private final SamplingParams sampling;
    private final int maxStringLength;
    private final int maxArrayItems;

    private ExtractTask(Builder b, JsonNode schema, ObjectSpec spec, SamplingParams sampling) {
        this.schema = schema.deepCopy();
        this.schemaJson = schema.toString();
        this.spec = spec;
        this.grammar = new JsonGrammar(spec);
        this.instruction = b.instruction;
        this.systemPrompt = b.systemPrompt;
        this.sampling = sampling;
        this.maxStringLength = b.maxStringLength;
        this.maxArrayItems = b.maxArrayItems;
    }

    public static Builder builder() { return new Builder(); }

    @Override
    public String name() { return "extract"; }

    /** A copy of the schema. */
    public JsonNode schema() { return schema.deepCopy(); }

    public String schemaJson() { return schemaJson; }

    public ObjectSpec spec() { return spec; }

    /** The compiled character-level grammar of the schema (shared, immutable). */
    public JsonGrammar grammar() { return grammar; }

    public String instruction() { return instruction; }

    public String systemPrompt() { return systemPrompt; }

    /** Sampling parameters; {@code maxNewTokens} is the grammar's character bound (never reached early). */
    public SamplingParams sampling() { return sampling; }

    public int maxStringLength() { return maxStringLength; }

    public int maxArrayItems() { return maxArrayItems; }

    @Override
    public String describeDecoding() {
        return "json-schema-constrained " + TaskDescriptions.generation(sampling)
                + " max_string_length=" + maxStringLength + " max_array_items=" + maxArrayItems;
    }

    @Override
    public String toString() { return "ExtractTask{schema=" + schemaJson + ", " + describeDecoding() + "}"; }

    public static final class Builder {
        private JsonNode schema;
        private String schemaText;
        private String instruction = DEFAULT_INSTRUCTION;
        private String systemPrompt;
        private SamplingParams sampling;
        private int maxStringLength = DEFAULT_MAX_STRING_LENGTH;
        private int maxArrayItems = DEFAULT_MAX_ARRAY_ITEMS;

        public Builder schema(JsonNode v) { this.schema = v; this.schemaText = null; return this; }
        /** The schema as JSON text. */
        public Builder schema(String v) { this.schemaText = v; this.schema = null; return this; }
        public Builder instruction(String v) { this.instruction = v; return this; }
        public Builder systemPrompt(String v) { this.systemPrompt = v; return this; }
        /**
         * Temperature / top-k / top-p; {@code maxNewTokens} is replaced by the grammar bound. Tasks sample with each
         * record's {@link TaskInput#seed()}; the seed given here is not used.
         */
        public Builder sampling(SamplingParams v) { this.sampling = v; return this; }
        public Builder maxStringLength(int v) { this.maxStringLength = v; return this; }
        public Builder maxArrayItems(int v) { this.maxArrayItems = v; return this; }

        public ExtractTask build() {
            if (instruction == null || instruction.isBlank())
                throw new IllegalArgumentException("extract: instruction must not be blank");
            if (maxStringLength < 0) throw new IllegalArgumentException("extract: maxStringLength must be >= 0");
            if (maxArrayItems < 0) throw new IllegalArgumentException("extract: maxArrayItems must be >= 0");
            JsonNode s = schema;
            if (s == null) {
                Objects.requireNonNull(schemaText, "extract: schema must be set");
                try {
                    s = JSON.readTree(schemaText);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException("extract: schema is not valid JSON: " + e.getOriginalMessage(), e);
                }
            }
            ObjectSpec spec = SchemaSubset.parse(s, maxStringLength, maxArrayItems);
            int bound = new JsonGrammar(spec).maxChars() + 1;
            SamplingParams base = sampling != null ? sampling : SamplingParams.greedy();
            SamplingParams sp = base.toBuilder().maxNewTokens(bound).ignoreEos(false).stopStrings(java.util.List.of()).build();
            return new ExtractTask(this, s, spec, sp);
        }
    }
}
