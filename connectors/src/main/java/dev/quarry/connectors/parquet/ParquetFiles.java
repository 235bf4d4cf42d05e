package dev.quarry.connectors.parquet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import dev.quarry.connectors.ResultSchema;
import org.apache.avro.Schema;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetInputFile;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/** Footer-level helpers for Parquet inputs on any Flink {@link FileSystem} (local paths included). */
public final class ParquetFiles {
    private ParquetFiles() {}

    /**
     * The data files under {@code path}, sorted by path: the file itself, or every file below a directory,
     * skipping files and folders whose names start with '.' or '_' (Hadoop's and Spark's {@code _SUCCESS},
     * {@code _temporary/}, {@code .crc} files), as Flink's file source does. {@code path} itself is never skipped:
     * an input named explicitly is read even when its own name starts with '_' or '.'.
     */
    public static List<Path> listFiles(Path path) {
        try {
            FileSystem fs = path.getFileSystem();
            FileStatus st = fs.getFileStatus(path);
            List<Path> out = new ArrayList<>();
            if (st.isDir()) {
                for (FileStatus c : fs.listStatus(st.getPath())) collect(fs, c, out);
            } else {
                out.add(st.getPath());
            }
            out.sort(java.util.Comparator.comparing(Path::toString));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list input " + path + ": " + e.getMessage(), e);
        }
    }

    private static void collect(FileSystem fs, FileStatus st, List<Path> out) throws IOException {
        String name = st.getPath().getName();
        if (name.startsWith(".") || name.startsWith("_")) return;
        if (st.isDir()) {
            for (FileStatus c : fs.listStatus(st.getPath())) collect(fs, c, out);
        } else {
            out.add(st.getPath());
        }
    }

    /** Reads one file's footer. */
    public static ParquetMetadata footer(Path file) throws IOException {
        try {
            FileSystem fs = file.getFileSystem();
            long len = fs.getFileStatus(file).getLen();
            try (FSDataInputStream in = fs.open(file);
                    ParquetFileReader r = ParquetFileReader.open(new ParquetInputFile(in, len))) {
                return r.getFooter();
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException("not a readable Parquet file: " + file + " (" + e.getMessage() + ")", e);
        }
    }

    /** Total rows of all files under {@code path}, from their footers (no data pages are read). */
    public static long countRows(Path path) {
        long n = 0;
        for (Path f : listFiles(path)) {
            try {
                n += footer(f).getBlocks().stream().mapToLong(b -> b.getRowCount()).sum();
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        return n;
    }

    /** Parquet-to-Avro settings: legacy INT96 timestamps are read as 12-byte fixed values (rendered as ISO instants). */
    static org.apache.hadoop.conf.Configuration avroConf() {
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration(false);
        conf.setBoolean(org.apache.parquet.avro.AvroReadSupport.READ_INT96_AS_FIXED, true);
        return conf;
    }

    /**
     * The Avro schema of a Parquet schema. Avro has no decimal on int/long, so an INT32/INT64 DECIMAL column
     * (which parquet-avro reads as its unscaled integer) is marked with its scale in the property
     * {@value ResultSchema#DECIMAL_SCALE_PROP}, for passthrough to render the decimal; an unsigned 32/64-bit
     * column (read as a signed int/long) with its width in {@value ResultSchema#UNSIGNED_BITS_PROP}; nanosecond
     * times and timestamps and JSON text (which this Avro version has no logical type for) and UUIDs (read as
     * fixed(16)) in {@value ResultSchema#LOGICAL_PROP}.
     */
    public static Schema avroSchema(MessageType parquet) {
        List<Type> safe = new ArrayList<>();
        for (Type t : avroSafeFields(parquet.getFields())) {
            // parquet-avro reads an optional UUID column as a string decoded from its 16 raw bytes (garbage);
            // as plain fixed(16) it hands over the bytes, rendered as the UUID string (LOGICAL_PROP "uuid")
            safe.add(t.getLogicalTypeAnnotation() instanceof org.apache.parquet.schema.LogicalTypeAnnotation.UUIDLogicalTypeAnnotation
                    ? org.apache.parquet.schema.Types.primitive(t.asPrimitiveType().getPrimitiveTypeName(), t.getRepetition())
                            .length(t.asPrimitiveType().getTypeLength()).named(t.getName())
                    : t);
        }
        Schema avro;
        try {
            avro = new AvroSchemaConverter(avroConf()).convert(new MessageType(avroName(parquet.getName()), safe));
        } catch (RuntimeException e) {
            for (int i = 0; i < safe.size(); i++) {   // name the column that cannot be converted
                try {
                    new AvroSchemaConverter(avroConf()).convert(new MessageType("row", safe.get(i)));
                } catch (RuntimeException one) {
                    throw new IllegalArgumentException("column '" + parquet.getFields().get(i).getName() + "' has no Avro form: " + one.getMessage(), one);
                }
            }
            throw e;
        }
        for (int i = 0; i < safe.size(); i++) {
            Type t = parquet.getFields().get(i);
            Schema.Field f = avro.getField(safe.get(i).getName());
            if (f == null) continue;
            if (!t.getName().equals(f.name())) f.addProp(ResultSchema.INPUT_COLUMN_PROP, t.getName());
            if (!t.isPrimitive()) continue;
            Schema s = f.schema();
            if (s.getType() == Schema.Type.UNION) s = s.getTypes().stream().filter(x -> x.getType() != Schema.Type.NULL).findFirst().orElse(s);
            var annotation = t.getLogicalTypeAnnotation();
            if (s.getType() == Schema.Type.FIXED && annotation instanceof org.apache.parquet.schema.LogicalTypeAnnotation.UUIDLogicalTypeAnnotation) {
                s.addProp(ResultSchema.LOGICAL_PROP, "uuid");
            }
            if (s.getType() == Schema.Type.BYTES && s.getLogicalType() == null
                    && annotation instanceof org.apache.parquet.schema.LogicalTypeAnnotation.JsonLogicalTypeAnnotation) {
                s.addProp(ResultSchema.LOGICAL_PROP, "json");
            }
            if ((s.getType() != Schema.Type.INT && s.getType() != Schema.Type.LONG) || s.getLogicalType() != null) continue;
            if (annotation instanceof org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation ts
                    && ts.getUnit() == org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit.NANOS) {
                s.addProp(ResultSchema.LOGICAL_PROP, ts.isAdjustedToUTC() ? "timestamp-nanos" : "local-timestamp-nanos");
            } else if (annotation instanceof org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation tm
                    && tm.getUnit() == org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit.NANOS) {
                s.addProp(ResultSchema.LOGICAL_PROP, "time-nanos");
            } else if (annotation instanceof org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d) {
                s.addProp(ResultSchema.DECIMAL_SCALE_PROP, d.getScale());
            } else if (annotation instanceof org.apache.parquet.schema.LogicalTypeAnnotation.IntLogicalTypeAnnotation n
                    && !n.isSigned() && n.getBitWidth() >= 32) {
                s.addProp(ResultSchema.UNSIGNED_BITS_PROP, n.getBitWidth());
            }
        }
        return avro;
    }

    /** An Avro-safe name: letters, digits and '_', not starting with a digit. */
    static String avroName(String name) {
        return name.matches("[A-Za-z_][A-Za-z0-9_]*") ? name : ResultSchema.sanitize(name);
    }

    /** The fields with Avro-safe names, unique among them (valid names are kept; others get a suffix on a clash). */
    static List<Type> avroSafeFields(List<Type> fields) {
        java.util.Set<String> used = new java.util.HashSet<>();
        for (Type t : fields) if (avroName(t.getName()).equals(t.getName())) used.add(t.getName());
        List<Type> out = new ArrayList<>();
        for (Type t : fields) {
            String name = t.getName();
            if (!avroName(name).equals(name)) {
                String base = avroName(name);
                name = base;
                for (int k = 2; used.contains(name); k++) name = base + "_" + k;
                used.add(name);
            }
            out.add(avroSafe(t, name));
        }
        return out;
    }

    /** {@code t} named {@code name}, with Avro-safe names inside (same structure, so the same columns). */
    public static Type avroSafe(Type t, String name) {
        if (t.isPrimitive()) {
            if (t.getName().equals(name)) return t;
            org.apache.parquet.schema.PrimitiveType p = t.asPrimitiveType();
            var b = org.apache.parquet.schema.Types.primitive(p.getPrimitiveTypeName(), p.getRepetition()).as(p.getLogicalTypeAnnotation());
            if (p.getPrimitiveTypeName() == org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.FIXED_LEN_BYTE_ARRAY) b = b.length(p.getTypeLength());
            if (p.getId() != null) b = b.id(p.getId().intValue());
            return b.named(name);
        }
        org.apache.parquet.schema.GroupType g = t.asGroupType();
        var b = org.apache.parquet.schema.Types.buildGroup(g.getRepetition()).as(g.getLogicalTypeAnnotation())
                .addFields(avroSafeFields(g.getFields()).toArray(new Type[0]));
        if (g.getId() != null) b = b.id(g.getId().intValue());
        return b.named(name);
    }

    /** The Avro schema of the first file under {@code path}. */
    public static Schema readSchema(Path path) {
        List<Path> files = listFiles(path);
        if (files.isEmpty()) throw new IllegalArgumentException("no Parquet files under " + path);
        try {
            return avroSchema(footer(files.get(0)).getFileMetaData().getSchema());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot convert the schema of Parquet file " + files.get(0) + ": " + e.getMessage(), e);
        }
    }

    /** Writes rows to a local Parquet file (SNAPPY); for samples, tests and tools, not for jobs. */
    public static void writeLocal(java.nio.file.Path file, Schema schema, Iterable<? extends org.apache.avro.generic.GenericRecord> rows) throws IOException {
        try (org.apache.parquet.hadoop.ParquetWriter<org.apache.avro.generic.GenericRecord> w =
                org.apache.parquet.avro.AvroParquetWriter.<org.apache.avro.generic.GenericRecord>builder(new org.apache.parquet.io.LocalOutputFile(file))
                        .withSchema(schema)
                        .withCompressionCodec(org.apache.parquet.hadoop.metadata.CompressionCodecName.SNAPPY)
                        .withConf(new org.apache.hadoop.conf.Configuration(false))
                        .build()) {
            for (org.apache.avro.generic.GenericRecord r : rows) w.write(r);
        }
    }

    /** Reads every row of local Parquet files (a file, or all visible files under a directory). */
    public static List<org.apache.avro.generic.GenericRecord> readLocal(java.nio.file.Path path) throws IOException {
        List<org.apache.avro.generic.GenericRecord> out = new ArrayList<>();
        for (Path f : listFiles(new Path(path.toUri()))) {
            try (org.apache.parquet.hadoop.ParquetReader<org.apache.avro.generic.GenericRecord> r =
                    org.apache.parquet.avro.AvroParquetReader.<org.apache.avro.generic.GenericRecord>builder(
                                    new org.apache.parquet.io.LocalInputFile(java.nio.file.Paths.get(f.toUri())))
                            .withConf(new org.apache.hadoop.conf.Configuration(false))
                            .build()) {
                for (org.apache.avro.generic.GenericRecord g = r.read(); g != null; g = r.read()) out.add(g);
            }
        }
        return out;
    }

    /**
     * The projection of {@code schema} onto {@code columns} (in the file's order): a reader with it only
     * decodes those column chunks.
     */
    public static Schema project(Schema schema, java.util.Collection<String> columns) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : schema.getFields()) {
            if (columns.contains(ResultSchema.inputName(f))) fields.add(new Schema.Field(f, f.schema()));
        }
        for (String c : columns) {
            if (ResultSchema.inputField(schema, c) == null) {
                throw new IllegalArgumentException("input has no column '" + c + "'; its columns are "
                        + schema.getFields().stream().map(ResultSchema::inputName).toList());
            }
        }
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }
}
