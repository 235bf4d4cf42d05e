package dev.quarry.connectors.arrow;

import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.ResultSchema.ColumnType;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/** The Arrow schema of a {@link ResultSchema}, and Arrow input types as passthrough column types. */
public final class ArrowSchemas {
    private ArrowSchemas() {}

    /** Arrow schema with the same columns, names, order and types as {@link ResultSchema#avroSchema()}. */
    public static Schema resultSchema(ResultSchema rs) {
        List<Field> fields = new ArrayList<>();
        for (org.apache.avro.Schema.Field f : rs.avroSchema().getFields()) fields.add(field(f.name(), f.schema(), true));
        return new Schema(fields);
    }

    private static Field field(String name, org.apache.avro.Schema s, boolean nullable) {
        if (s.getType() == org.apache.avro.Schema.Type.UNION) {
            org.apache.avro.Schema inner = s.getTypes().stream().filter(t -> t.getType() != org.apache.avro.Schema.Type.NULL).findFirst().orElseThrow();
            return field(name, inner, true);
        }
        return switch (s.getType()) {
            case STRING -> prim(name, ArrowType.Utf8.INSTANCE, nullable);
            case LONG -> prim(name, new ArrowType.Int(64, true), nullable);
            case INT -> prim(name, new ArrowType.Int(32, true), nullable);
            case DOUBLE -> prim(name, new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE), nullable);
            case FLOAT -> prim(name, new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE), nullable);
            case BOOLEAN -> prim(name, ArrowType.Bool.INSTANCE, nullable);
            case ARRAY -> new Field(name, new FieldType(nullable, ArrowType.List.INSTANCE, null),
                    List.of(field("item", s.getElementType(), true)));
            case MAP -> new Field(name, new FieldType(nullable, new ArrowType.Map(false), null),
                    List.of(new Field("entries", FieldType.notNullable(ArrowType.Struct.INSTANCE), List.of(
                            prim("key", ArrowType.Utf8.INSTANCE, false),
                            field("value", s.getValueType(), true).getFieldType().getType() instanceof ArrowType.FloatingPoint
                                    ? prim("value", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE), true)
                                    : field("value", s.getValueType(), true)))));
            default -> throw new IllegalArgumentException("no Arrow mapping for Avro type " + s);
        };
    }

    private static Field prim(String name, ArrowType t, boolean nullable) {
        return new Field(name, new FieldType(nullable, t, null), null);
    }

    /** Passthrough column type of an Arrow input field (primitives keep their type; decimals, dates, times, timestamps are strings; the rest JSON text). */
    public static ColumnType columnType(Field f) {
        ArrowType t = f.getType();
        if (t instanceof ArrowType.Utf8 || t instanceof ArrowType.LargeUtf8) return ColumnType.STRING;
        if (t instanceof ArrowType.Int i) {
            if (!i.getIsSigned() && i.getBitWidth() >= 32) return i.getBitWidth() == 64 ? ColumnType.STRING : ColumnType.LONG;   // as ArrowInputFormat renders them
            return i.getBitWidth() == 64 ? ColumnType.LONG : ColumnType.INT;
        }
        if (t instanceof ArrowType.FloatingPoint fp) return fp.getPrecision() == FloatingPointPrecision.DOUBLE ? ColumnType.DOUBLE : ColumnType.FLOAT;
        if (t instanceof ArrowType.Bool) return ColumnType.BOOLEAN;
        // rendered as strings by ArrowInputFormat (plain decimal, ISO-8601)
        if (t instanceof ArrowType.Decimal || t instanceof ArrowType.Date || t instanceof ArrowType.Time || t instanceof ArrowType.Timestamp) return ColumnType.STRING;
        return ColumnType.JSON;
    }
}
