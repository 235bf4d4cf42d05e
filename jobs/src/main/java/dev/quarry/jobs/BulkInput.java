package dev.quarry.jobs;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.arrow.ArrowSchemas;
import dev.quarry.connectors.parquet.ParquetFiles;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.flink.core.fs.Path;

/**
 * The input of a bulk-score run, inspected once at start-up (when {@link BulkScoreJob.Options} are built): the
 * data files and the union of their columns.
 *
 * <p>Files may differ in their columns: the results carry every passthrough column of any file, null in the rows
 * of files that lack it (as Spark's {@code mergeSchema} does). The run is refused at start, naming the file and the
 * column, when a file lacks the text column (or an id column asked for with {@code --id-column}), or when a column
 * that is read (id, text, passthrough) has different types in different files.
 */
public final class BulkInput implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The data files, sorted by path. */
    public final List<String> files;
    /** Passthrough columns (input name to type), in the order first seen over the sorted files. */
    public final Map<String, ColumnType> passthrough;
    /** Parquet: the read columns of all files as one Avro record (a column some file lacks is nullable); null for Arrow. */
    private final String parquetSchemaJson;
    private transient Schema parquetSchema;

    private BulkInput(List<String> files, Map<String, ColumnType> passthrough, String parquetSchemaJson) {
        this.files = List.copyOf(files);
        this.passthrough = Collections.unmodifiableMap(new LinkedHashMap<>(passthrough));
        this.parquetSchemaJson = parquetSchemaJson;
    }

    /** The files as Flink paths. */
    public List<Path> paths() {
        return files.stream().map(Path::new).toList();
    }

    /** Parquet inputs: the Avro schema to read every file with (the union of the read columns). */
    public Schema parquetSchema() {
        if (parquetSchemaJson == null) throw new IllegalStateException("not a Parquet input");
        if (parquetSchema == null) parquetSchema = new Schema.Parser().parse(parquetSchemaJson);
        return parquetSchema;
    }

    /** Adds the passthrough columns to a result schema. */
    public ResultSchema.Builder addPassthrough(ResultSchema.Builder b) {
        passthrough.forEach(b::passthrough);
        return b;
    }

    /** One column of one file: its type as Avro (Parquet) or as a passthrough column type (Arrow). */
    private record Seen(String file, Object type, Schema.Field avroField) {}

    /**
     * Lists and inspects the input under {@code root}.
     *
     * @param requireId every file must have the mapping's id column ({@code --id-column} was given)
     */
    public static BulkInput inspect(Path root, BulkScoreJob.Format format, InputMapping mapping, boolean requireId) {
        List<Path> files = list(root);
        if (files.isEmpty()) throw new IllegalArgumentException("no input files under " + root);
        // column name -> where it was seen, in first-seen order
        Map<String, List<Seen>> columns = new LinkedHashMap<>();
        Schema first = null;
        for (Path f : files) {
            List<String> names = new ArrayList<>();
            if (format == BulkScoreJob.Format.PARQUET) {
                Schema s = parquetSchema(f);
                if (first == null) first = s;
                for (Schema.Field field : s.getFields()) {
                    String column = ResultSchema.inputName(field);   // the file's own name, also when not an Avro name
                    names.add(column);
                    columns.computeIfAbsent(column, k -> new ArrayList<>()).add(new Seen(f.toString(), nonNull(field.schema()), field));
                    if (column.equals(mapping.textField()) && !canHoldText(nonNull(field.schema()))) {
                        throw notText(f, mapping.textField(), nonNull(field.schema()).getType().getName());
                    }
                }
            } else {
                org.apache.arrow.vector.types.pojo.Schema s;
                try {
                    s = ArrowInputFormat.readSchema(f);
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("cannot read the schema of Arrow input file " + f + ": " + e.getMessage(), e);
                }
                for (var field : s.getFields()) {
                    names.add(field.getName());
                    columns.computeIfAbsent(field.getName(), k -> new ArrayList<>()).add(new Seen(f.toString(), ArrowSchemas.columnType(field), null));
                    if (field.getName().equals(mapping.textField()) && field.getDictionary() == null && !canHoldText(field.getType())) {
                        throw notText(f, mapping.textField(), field.getType().toString());
                    }
                }
            }
            if (!names.contains(mapping.textField())) {
                throw new IllegalArgumentException("input file " + f + " has no text column '" + mapping.textField() + "'; its columns are " + names);
            }
            if (requireId && mapping.idField() != null && !names.contains(mapping.idField())) {
                throw new IllegalArgumentException("--id-column '" + mapping.idField() + "' is not a column of input file " + f
                        + "; its columns are " + names);
            }
        }
        // the columns that are read: id (where present), text, passthrough
        Set<String> read = new LinkedHashSet<>();
        if (mapping.idField() != null && columns.containsKey(mapping.idField())) read.add(mapping.idField());
        read.add(mapping.textField());
        List<String> passthrough = new ArrayList<>();
        if (mapping.passthroughFields() != null) {
            for (String c : mapping.passthroughFields()) {
                if (!columns.containsKey(c)) {
                    throw new IllegalArgumentException("--passthrough column '" + c + "' is in no input file; their columns are " + columns.keySet());
                }
                passthrough.add(c);
            }
        } else {
            for (String c : columns.keySet()) if (mapping.passes(c)) passthrough.add(c);
        }
        read.addAll(passthrough);
        // Arrow reads id and text per value (a non-string text is an invalid record), so only passthrough types must agree
        Set<String> typed = format == BulkScoreJob.Format.PARQUET ? read : new LinkedHashSet<>(passthrough);
        for (String c : typed) {
            List<Seen> seen = columns.get(c);
            for (Seen s : seen) {
                if (!s.type().equals(seen.get(0).type())) {
                    throw new IllegalArgumentException("input files disagree on the type of column '" + c + "': it is " + describe(s.type())
                            + " in " + s.file() + " but " + describe(seen.get(0).type()) + " in " + seen.get(0).file()
                            + "; convert them to one type, or leave the column out with --passthrough");
                }
            }
        }
        Map<String, ColumnType> types = new LinkedHashMap<>();
        String schemaJson = null;
        if (format == BulkScoreJob.Format.PARQUET) {
            List<Schema.Field> fields = new ArrayList<>();
            for (String c : columns.keySet()) {
                if (!read.contains(c)) continue;
                List<Seen> seen = columns.get(c);
                Schema.Field f0 = seen.get(0).avroField();
                boolean everywhere = seen.size() == files.size();
                boolean nullable = !everywhere || seen.stream().anyMatch(s -> s.avroField().schema().getType() == Schema.Type.UNION);
                // a column some file lacks is read as null there, which needs an optional (nullable) column
                Schema t0 = (Schema) seen.get(0).type();
                List<Schema> branches = new ArrayList<>(List.of(Schema.create(Schema.Type.NULL)));
                if (t0.getType() == Schema.Type.UNION) branches.addAll(t0.getTypes());
                else branches.add(t0);
                Schema type = nullable ? Schema.createUnion(branches) : f0.schema();
                Schema.Field field = nullable ? new Schema.Field(f0.name(), type, f0.doc(), JsonProperties.NULL_VALUE) : new Schema.Field(f0, f0.schema());
                if (nullable) f0.getObjectProps().forEach(field::addProp);   // keeps the input column name (ResultSchema.INPUT_COLUMN_PROP)
                fields.add(field);
            }
            Schema merged = Schema.createRecord(first.getName(), first.getDoc(), first.getNamespace(), false, fields);
            schemaJson = merged.toString();
            for (String c : passthrough) types.put(c, ResultSchema.fromAvro(ResultSchema.inputField(merged, c).schema()));
        } else {
            for (String c : passthrough) types.put(c, (ColumnType) columns.get(c).get(0).type());
        }
        return new BulkInput(files.stream().map(Path::toString).toList(), types, schemaJson);
    }

    /** The data files under {@code root} ({@link ParquetFiles#listFiles}: hidden files below it skipped, never the root). */
    public static List<Path> list(Path root) {
        return ParquetFiles.listFiles(root);
    }

    private static Schema parquetSchema(Path f) {
        try {
            return ParquetFiles.avroSchema(ParquetFiles.footer(f).getFileMetaData().getSchema());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the schema of Parquet input file " + f + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot read the schema of Parquet input file " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether a text column of this (non-null) Avro type can hold text: strings, and binary read as UTF-8 (and the
     * types whose values the reader judges one by one). A plain number, boolean or nested column never can: every
     * row would be an {@code invalid_record}, so the run is refused at start instead.
     */
    static boolean canHoldText(Schema t) {
        return switch (t.getType()) {
            case INT, LONG, FLOAT, DOUBLE, BOOLEAN -> t.getLogicalType() != null;
            case ARRAY, MAP, RECORD -> false;
            default -> true;
        };
    }

    /** The same for an Arrow column (dictionary columns are judged by their values, as they are read). */
    static boolean canHoldText(org.apache.arrow.vector.types.pojo.ArrowType t) {
        return switch (t.getTypeID()) {
            case Int, FloatingPoint, Bool, Decimal, Date, Time, Timestamp, Interval, Duration,
                    List, LargeList, FixedSizeList, Struct, Map -> false;
            default -> true;
        };
    }

    private static IllegalArgumentException notText(Path file, String column, String type) {
        return new IllegalArgumentException("the text column '" + column + "' of input file " + file + " is " + type
                + ", not a string; choose the text column with --text-column");
    }

    /** The type of an optional Avro column without its null branch. */
    private static Schema nonNull(Schema s) {
        if (s.getType() != Schema.Type.UNION) return s;
        List<Schema> types = s.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).toList();
        return types.size() == 1 ? types.get(0) : Schema.createUnion(types);
    }

    private static String describe(Object type) {
        return type instanceof ColumnType t ? t.name().toLowerCase(java.util.Locale.ROOT) : type.toString();
    }
}
