package dev.quarry.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;

/**
 * The typed columns of a results file (Parquet or Arrow), as an Avro schema, and the conversion of a
 * {@link ResultRecord} into a row of it.
 *
 * <p>Columns, in order: the input passthrough columns (their input type when it is a primitive, else
 * JSON text; a name that collides with a result column gets the prefix {@value #INPUT_PREFIX}), then
 * {@code id}, {@code task}, the task's result columns (classify: {@code label} string +
 * {@code probabilities} map&lt;string,double&gt;; extract: {@code json} + one typed column per schema
 * field; summarize/prompt: {@code text}), {@code error_kind}, {@code error_message},
 * {@code prompt_tokens}, {@code generated_tokens}, {@code latency_ms}, and lineage {@code model},
 * {@code model_hash}, {@code decoding}, {@code source}. Every result column is nullable: a failed
 * row has its result columns null and its error columns set.
 *
 * <p>Immutable and serializable (the Avro schema is rebuilt lazily on each task).
 */
public final class ResultSchema implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String RECORD_NAME = "QuarryResult";
    public static final String NAMESPACE = "dev.quarry.results";
    public static final String INPUT_PREFIX = "input_";
    public static final String FIELD_PREFIX = "field_";

    public static final String ID = "id";
    public static final String TASK = "task";
    public static final String TEXT = "text";
    public static final String LABEL = "label";
    public static final String PROBABILITIES = "probabilities";
    public static final String JSON = "json";
    public static final String ERROR_KIND = "error_kind";
    public static final String ERROR_MESSAGE = "error_message";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String GENERATED_TOKENS = "generated_tokens";
    public static final String LATENCY_MS = "latency_ms";
    public static final String MODEL = "model";
    public static final String MODEL_HASH = "model_hash";
    public static final String DECODING = "decoding";
    public static final String SOURCE = "source";

    /** The task kinds, by their CLI names. */
    public enum TaskKind {
        SUMMARIZE, CLASSIFY, EXTRACT, PROMPT;

        public String wireName() { return name().toLowerCase(Locale.ROOT); }

        public static TaskKind parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("unknown task '" + s + "' (expected summarize, classify, extract or prompt)");
            }
        }
    }

    /** Column value types. JSON-schema names map onto them in {@link #fromJsonSchemaType}. */
    public enum ColumnType { STRING, LONG, INT, DOUBLE, FLOAT, BOOLEAN, JSON, STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY, BOOLEAN_ARRAY }

    /** A typed column: name in the input (or extract field name) and name in the output. */
    public record Column(String sourceName, String name, ColumnType type) implements Serializable {}

    private final TaskKind task;
    private final List<Column> passthrough;
    private final List<Column> extractFields;
    private transient Schema schema;

    private ResultSchema(TaskKind task, List<Column> passthrough, List<Column> extractFields) {
        this.task = task;
        this.passthrough = List.copyOf(passthrough);
        this.extractFields = List.copyOf(extractFields);
    }

    public static Builder builder(TaskKind task) {
        return new Builder(task);
    }

    public TaskKind task() { return task; }
    public List<Column> passthrough() { return passthrough; }
    public List<Column> extractFields() { return extractFields; }

    /** The Avro schema of a result row. */
    public Schema avroSchema() {
        if (schema == null) schema = buildSchema();
        return schema;
    }

    private Schema buildSchema() {
        SchemaBuilder.FieldAssembler<Schema> f = SchemaBuilder.record(RECORD_NAME).namespace(NAMESPACE).fields();
        for (Column c : passthrough) f = f.name(c.name()).type(nullable(avroType(c.type()))).withDefault(null);
        f = f.name(ID).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
        f = f.name(TASK).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
        switch (task) {
            case CLASSIFY -> {
                f = f.name(LABEL).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
                f = f.name(PROBABILITIES).type(nullable(Schema.createMap(Schema.create(Schema.Type.DOUBLE)))).withDefault(null);
            }
            case EXTRACT -> {
                f = f.name(JSON).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
                for (Column c : extractFields) f = f.name(c.name()).type(nullable(avroType(c.type()))).withDefault(null);
            }
            case SUMMARIZE, PROMPT -> f = f.name(TEXT).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
        }
        for (String s : List.of(ERROR_KIND, ERROR_MESSAGE)) f = f.name(s).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
        f = f.name(PROMPT_TOKENS).type(Schema.create(Schema.Type.INT)).withDefault(0);
        f = f.name(GENERATED_TOKENS).type(Schema.create(Schema.Type.INT)).withDefault(0);
        f = f.name(LATENCY_MS).type(Schema.create(Schema.Type.LONG)).withDefault(0L);
        for (String s : List.of(MODEL, MODEL_HASH, DECODING, SOURCE)) f = f.name(s).type(nullable(Schema.create(Schema.Type.STRING))).withDefault(null);
        return f.endRecord();
    }

    /** Converts a result into a row of {@link #avroSchema()}. Missing or mistyped values become null. */
    public GenericRecord toAvro(ResultRecord r) {
        Schema s = avroSchema();
        GenericData.Record g = new GenericData.Record(s);
        for (Column c : passthrough) {
            String json = r.passthrough == null ? null : r.passthrough.get(c.sourceName());
            g.put(c.name(), fromJson(json, c.type()));
        }
        g.put(ID, r.id);
        g.put(TASK, r.task);
        switch (task) {
            case CLASSIFY -> {
                g.put(LABEL, r.label);
                g.put(PROBABILITIES, r.probabilities == null ? null : new LinkedHashMap<>(r.probabilities));
            }
            case EXTRACT -> {
                g.put(JSON, r.json);
                for (Column c : extractFields) {
                    String json = r.fields == null ? null : r.fields.get(c.sourceName());
                    g.put(c.name(), fromJson(json, c.type()));
                }
            }
            case SUMMARIZE, PROMPT -> g.put(TEXT, r.text);
        }
        g.put(ERROR_KIND, r.errorKind);
        g.put(ERROR_MESSAGE, r.errorMessage);
        g.put(PROMPT_TOKENS, r.promptTokens);
        g.put(GENERATED_TOKENS, r.generatedTokens);
        g.put(LATENCY_MS, r.latencyMs);
        g.put(MODEL, r.model);
        g.put(MODEL_HASH, r.modelHash);
        g.put(DECODING, r.decoding);
        g.put(SOURCE, r.source);
        return g;
    }

    /** A JSON-encoded value as a Java value of the column type (null when absent or of another type). */
    public static Object fromJson(String json, ColumnType type) {
        if (json == null) return null;
        JsonNode n = Json.parseLenient(json);
        if (n == null || n.isNull() || n.isMissingNode()) return null;
        return switch (type) {
            case STRING -> n.isValueNode() ? n.asText() : n.toString();
            case JSON -> n.toString();
            case LONG -> n.isNumber() && n.canConvertToLong() && (n.isIntegralNumber() || n.asDouble() == Math.rint(n.asDouble())) ? n.asLong() : null;
            case INT -> n.isNumber() && n.canConvertToInt() && (n.isIntegralNumber() || n.asDouble() == Math.rint(n.asDouble())) ? n.asInt() : null;
            case DOUBLE -> n.isNumber() ? n.asDouble() : null;
            case FLOAT -> n.isNumber() ? (float) n.asDouble() : null;
            case BOOLEAN -> n.isBoolean() ? n.asBoolean() : null;
            case STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY, BOOLEAN_ARRAY -> {
                if (!n.isArray()) yield null;
                ColumnType item = itemType(type);
                List<Object> out = new ArrayList<>();
                for (JsonNode e : n) out.add(fromJson(e.toString(), item));
                yield out;
            }
        };
    }

    public static ColumnType itemType(ColumnType arrayType) {
        return switch (arrayType) {
            case STRING_ARRAY -> ColumnType.STRING;
            case LONG_ARRAY -> ColumnType.LONG;
            case DOUBLE_ARRAY -> ColumnType.DOUBLE;
            case BOOLEAN_ARRAY -> ColumnType.BOOLEAN;
            default -> throw new IllegalArgumentException(arrayType + " is not an array type");
        };
    }

    static Schema avroType(ColumnType t) {
        return switch (t) {
            case STRING, JSON -> Schema.create(Schema.Type.STRING);
            case LONG -> Schema.create(Schema.Type.LONG);
            case INT -> Schema.create(Schema.Type.INT);
            case DOUBLE -> Schema.create(Schema.Type.DOUBLE);
            case FLOAT -> Schema.create(Schema.Type.FLOAT);
            case BOOLEAN -> Schema.create(Schema.Type.BOOLEAN);
            case STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY, BOOLEAN_ARRAY ->
                    Schema.createArray(nullable(avroType(itemType(t))));
        };
    }

    static Schema nullable(Schema s) {
        return Schema.createUnion(Schema.create(Schema.Type.NULL), s);
    }

    /**
     * Column type for a JSON-schema type name: {@code string}, {@code integer}, {@code number},
     * {@code boolean}, {@code array} (with {@code itemType}); anything else (object, unions) is JSON text.
     */
    public static ColumnType fromJsonSchemaType(String type, String itemType) {
        if (type == null) return ColumnType.JSON;
        return switch (type) {
            case "string" -> ColumnType.STRING;
            case "integer" -> ColumnType.LONG;
            case "number" -> ColumnType.DOUBLE;
            case "boolean" -> ColumnType.BOOLEAN;
            case "array" -> switch (itemType == null ? "" : itemType) {
                case "string" -> ColumnType.STRING_ARRAY;
                case "integer" -> ColumnType.LONG_ARRAY;
                case "number" -> ColumnType.DOUBLE_ARRAY;
                case "boolean" -> ColumnType.BOOLEAN_ARRAY;
                default -> ColumnType.JSON;
            };
            default -> ColumnType.JSON;
        };
    }

    /**
     * Column type of an input Avro field for passthrough: primitives keep their type; decimals, dates,
     * times, timestamps, UUIDs and Parquet INT96 timestamps become strings (see {@link #avroValueToJson(Object, Schema)});
     * the rest JSON text.
     */
    public static ColumnType fromAvro(Schema s) {
        if (s.getType() == Schema.Type.UNION) {
            List<Schema> nonNull = s.getTypes().stream().filter(x -> x.getType() != Schema.Type.NULL).toList();
            return nonNull.size() == 1 ? fromAvro(nonNull.get(0)) : ColumnType.JSON;
        }
        if (isInt96(s) || s.getObjectProp(DECIMAL_SCALE_PROP) != null || s.getObjectProp(LOGICAL_PROP) != null) return ColumnType.STRING;
        if (s.getObjectProp(UNSIGNED_BITS_PROP) instanceof Number bits) return bits.intValue() >= 64 ? ColumnType.STRING : ColumnType.LONG;
        if (s.getLogicalType() != null) return RENDERED_LOGICAL_TYPES.contains(s.getLogicalType().getName()) ? ColumnType.STRING : ColumnType.JSON;
        return switch (s.getType()) {
            case STRING, ENUM -> ColumnType.STRING;
            case LONG -> ColumnType.LONG;
            case INT -> ColumnType.INT;
            case DOUBLE -> ColumnType.DOUBLE;
            case FLOAT -> ColumnType.FLOAT;
            case BOOLEAN -> ColumnType.BOOLEAN;
            default -> ColumnType.JSON;
        };
    }

    /** Logical types whose values pass through as strings (plain decimal, ISO-8601 dates, times and timestamps, UUID). */
    static final Set<String> RENDERED_LOGICAL_TYPES = Set.of("decimal", "date", "time-millis", "time-micros",
            "timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros", "uuid");

    /**
     * Avro field property holding an input column's own name when it is not a valid Avro name ({@code "my col"},
     * {@code "1st"}, {@code "a-b"}): the Avro schema of a Parquet input names that field with an Avro-safe name.
     */
    public static final String INPUT_COLUMN_PROP = "quarry.column";

    /** The input column name of an Avro field of an input schema (see {@link #INPUT_COLUMN_PROP}). */
    public static String inputName(Schema.Field f) {
        return f.getObjectProp(INPUT_COLUMN_PROP) instanceof String s ? s : f.name();
    }

    /** The field of an input schema for an input column name, or null. */
    public static Schema.Field inputField(Schema s, String column) {
        for (Schema.Field f : s.getFields()) if (inputName(f).equals(column)) return f;
        return null;
    }

    /** Avro property on an int/long schema holding the scale of a Parquet INT32/INT64 DECIMAL column. */
    public static final String DECIMAL_SCALE_PROP = "quarry.decimal.scale";

    /**
     * Avro property on an int/long schema holding the width (32 or 64) of an unsigned Parquet integer column:
     * passed through as a long (32) or a decimal string (64), never negative.
     */
    public static final String UNSIGNED_BITS_PROP = "quarry.unsigned.bits";

    /**
     * Avro property naming a Parquet logical type parquet-avro reads as a plain long or bytes: {@code timestamp-nanos},
     * {@code local-timestamp-nanos}, {@code time-nanos} (longs), {@code json} (UTF-8 bytes) and {@code uuid} (16 bytes); rendered as strings.
     */
    public static final String LOGICAL_PROP = "quarry.logical";

    /** Parquet's legacy INT96 timestamp as parquet-avro reads it with {@code parquet.avro.readInt96AsFixed}. */
    public static boolean isInt96(Schema s) {
        return s.getType() == Schema.Type.FIXED && s.getFixedSize() == 12 && "INT96".equals(s.getName());
    }

    /**
     * An Avro field value of schema {@code s} as JSON text: values of the {@link #RENDERED_LOGICAL_TYPES} and
     * INT96 timestamps as JSON strings (decimal {@code "12.34"}, date {@code "2024-02-29"}, time
     * {@code "13:45:30.123"}, UTC timestamp {@code "2024-02-29T13:45:30.123456Z"}, local timestamp without the
     * {@code Z}), anything else as {@link #avroValueToJson(Object)}.
     */
    public static String avroValueToJson(Object v, Schema s) {
        if (v == null) return "null";
        if (s.getType() == Schema.Type.UNION) {
            List<Schema> nonNull = s.getTypes().stream().filter(x -> x.getType() != Schema.Type.NULL).toList();
            return nonNull.size() == 1 ? avroValueToJson(v, nonNull.get(0)) : avroValueToJson(v);
        }
        if (s.getObjectProp(UNSIGNED_BITS_PROP) != null && v instanceof Integer n) return Json.encode(Integer.toUnsignedLong(n));
        if (s.getObjectProp(UNSIGNED_BITS_PROP) != null && v instanceof Long n) return Json.encode(Long.toUnsignedString(n));
        String rendered = render(v, s);
        return rendered != null ? Json.encode(rendered) : avroValueToJson(v);
    }

    private static String render(Object v, Schema s) {
        if (isInt96(s) && v instanceof GenericFixed f) {
            ByteBuffer b = ByteBuffer.wrap(f.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long nanosOfDay = b.getLong();
            long julianDay = Integer.toUnsignedLong(b.getInt());
            return java.time.format.DateTimeFormatter.ISO_INSTANT.format(java.time.LocalDate.ofEpochDay(julianDay - 2440588L)
                    .atStartOfDay(java.time.ZoneOffset.UTC).toInstant().plusNanos(nanosOfDay));
        }
        if (s.getObjectProp(DECIMAL_SCALE_PROP) instanceof Number scale && (v instanceof Integer || v instanceof Long)) {
            return java.math.BigDecimal.valueOf(((Number) v).longValue(), scale.intValue()).toPlainString();
        }
        if (s.getObjectProp(LOGICAL_PROP) instanceof String logical) {
            if (logical.equals("uuid") && v instanceof GenericFixed f && f.bytes().length == 16) {
                ByteBuffer b = ByteBuffer.wrap(f.bytes());
                return new java.util.UUID(b.getLong(), b.getLong()).toString();
            }
            if (logical.equals("json") && v instanceof ByteBuffer bb) {
                byte[] bytes = new byte[bb.remaining()];
                bb.duplicate().get(bytes);
                return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            }
            if (!(v instanceof Long n)) return null;
            if (logical.equals("time-nanos")) return java.time.format.DateTimeFormatter.ISO_LOCAL_TIME.format(java.time.LocalTime.ofNanoOfDay(n));
            java.time.Instant instant = java.time.Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
            return logical.startsWith("local")
                    ? java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(java.time.LocalDateTime.ofInstant(instant, java.time.ZoneOffset.UTC))
                    : java.time.format.DateTimeFormatter.ISO_INSTANT.format(instant);
        }
        LogicalType lt = s.getLogicalType();
        if (lt == null) return null;
        switch (lt.getName()) {
            case "decimal" -> {
                java.math.BigInteger unscaled;
                if (v instanceof Integer || v instanceof Long) unscaled = java.math.BigInteger.valueOf(((Number) v).longValue());
                else if (v instanceof ByteBuffer bb) {
                    byte[] bytes = new byte[bb.remaining()];
                    bb.duplicate().get(bytes);
                    unscaled = new java.math.BigInteger(bytes);
                } else if (v instanceof GenericFixed f) unscaled = new java.math.BigInteger(f.bytes());
                else if (v instanceof java.math.BigDecimal d) return d.toPlainString();
                else return null;
                return new java.math.BigDecimal(unscaled, ((LogicalTypes.Decimal) lt).getScale()).toPlainString();
            }
            case "date" -> {
                return v instanceof Number n ? java.time.LocalDate.ofEpochDay(n.longValue()).toString() : null;
            }
            case "time-millis", "time-micros" -> {
                if (!(v instanceof Number n)) return null;
                long nanos = n.longValue() * ("time-millis".equals(lt.getName()) ? 1_000_000L : 1_000L);
                return java.time.format.DateTimeFormatter.ISO_LOCAL_TIME.format(java.time.LocalTime.ofNanoOfDay(nanos));
            }
            case "timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros" -> {
                if (!(v instanceof Number n)) return null;
                long t = n.longValue();
                java.time.Instant instant = lt.getName().endsWith("millis") ? java.time.Instant.ofEpochMilli(t)
                        : java.time.Instant.ofEpochSecond(Math.floorDiv(t, 1_000_000L), Math.floorMod(t, 1_000_000L) * 1000L);
                return lt.getName().startsWith("local")
                        ? java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(java.time.LocalDateTime.ofInstant(instant, java.time.ZoneOffset.UTC))
                        : java.time.format.DateTimeFormatter.ISO_INSTANT.format(instant);
            }
            case "uuid" -> {
                return v.toString();
            }
            default -> {
                return null;
            }
        }
    }

    /** An Avro field value as JSON text (used for passthrough values read from Parquet or Arrow). */
    public static String avroValueToJson(Object v) {
        if (v == null) return "null";
        if (v instanceof CharSequence || v instanceof GenericData.EnumSymbol) return Json.encode(v.toString());
        if (v instanceof ByteBuffer bb) {
            ByteBuffer d = bb.duplicate();
            byte[] bytes = new byte[d.remaining()];
            d.get(bytes);
            return Json.encode(java.util.Base64.getEncoder().encodeToString(bytes));
        }
        if (v instanceof Number || v instanceof Boolean) return v.toString().equals("NaN") ? "null" : Json.encode(v);
        // records, arrays, maps: Avro's own JSON rendering
        return Json.parseLenient(GenericData.get().toString(v)).toString();
    }

    /** Avro-safe column name: letters, digits and underscores, not starting with a digit. */
    public static String sanitize(String name) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            b.append((Character.isLetterOrDigit(ch) && ch < 128) || ch == '_' ? ch : '_');
        }
        if (b.length() == 0 || Character.isDigit(b.charAt(0))) b.insert(0, '_');
        return b.toString();
    }

    @Override
    public String toString() {
        return "ResultSchema{task=" + task + ", passthrough=" + passthrough + ", extractFields=" + extractFields + '}';
    }

    /** Builds a {@link ResultSchema}; checks names in {@link #build()}. */
    public static final class Builder {
        private final TaskKind task;
        private final Map<String, ColumnType> passthrough = new LinkedHashMap<>();
        private final Map<String, ColumnType> extract = new LinkedHashMap<>();

        private Builder(TaskKind task) {
            this.task = Objects.requireNonNull(task, "task");
        }

        /** Adds a passthrough column. */
        public Builder passthrough(String inputName, ColumnType type) {
            passthrough.put(Objects.requireNonNull(inputName), Objects.requireNonNull(type));
            return this;
        }

        /** Adds the named fields of an input Avro schema as passthrough columns, keeping primitive types. */
        public Builder passthroughFrom(Schema inputSchema, Collection<String> names) {
            for (String n : names) {
                Schema.Field field = inputField(inputSchema, n);
                if (field == null) throw new IllegalArgumentException("input has no column '" + n + "' (columns: " + fieldNames(inputSchema) + ")");
                passthrough(n, fromAvro(field.schema()));
            }
            return this;
        }

        /** Adds a typed extract field (type is a JSON-schema type name; {@code itemType} for arrays). */
        public Builder extractField(String name, String jsonSchemaType, String itemType) {
            extract.put(Objects.requireNonNull(name), fromJsonSchemaType(jsonSchemaType, itemType));
            return this;
        }

        /** Adds every property of a JSON schema ({@code {"type":"object","properties":{...}}}) as an extract field. */
        public Builder extractFieldsFromJsonSchema(String jsonSchema) {
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(jsonSchema);
            } catch (Exception e) {
                throw new IllegalArgumentException("extract schema is not valid JSON: " + e.getMessage(), e);
            }
            JsonNode props = root.path("properties");
            if (!props.isObject()) throw new IllegalArgumentException("extract schema needs an object with \"properties\"");
            props.fields().forEachRemaining(e -> {
                JsonNode p = e.getValue();
                String type = p.path("type").isTextual() ? p.path("type").asText() : (p.has("enum") ? "string" : null);
                String item = p.path("items").path("type").isTextual() ? p.path("items").path("type").asText() : null;
                extractField(e.getKey(), type, item);
            });
            return this;
        }

        public ResultSchema build() {
            if (!extract.isEmpty() && task != TaskKind.EXTRACT) {
                throw new IllegalArgumentException("extract fields given for task " + task.wireName());
            }
            Set<String> used = new HashSet<>(List.of(ID, TASK, TEXT, LABEL, PROBABILITIES, JSON, ERROR_KIND, ERROR_MESSAGE,
                    PROMPT_TOKENS, GENERATED_TOKENS, LATENCY_MS, MODEL, MODEL_HASH, DECODING, SOURCE));
            List<Column> ex = new ArrayList<>();
            for (Map.Entry<String, ColumnType> e : extract.entrySet()) {
                String n = unique(sanitize(e.getKey()), FIELD_PREFIX, used);
                ex.add(new Column(e.getKey(), n, e.getValue()));
            }
            List<Column> pt = new ArrayList<>();
            for (Map.Entry<String, ColumnType> e : passthrough.entrySet()) {
                String n = unique(sanitize(e.getKey()), INPUT_PREFIX, used);
                pt.add(new Column(e.getKey(), n, e.getValue()));
            }
            return new ResultSchema(task, pt, ex);
        }

        private static String unique(String name, String prefix, Set<String> used) {
            String n = name;
            while (used.contains(n)) n = prefix + n;
            used.add(n);
            return n;
        }

        private static String fieldNames(Schema s) {
            return s.getFields().stream().map(ResultSchema::inputName).toList().toString();
        }
    }
}
