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

/** Footer-level helpers for Parquet inputs on any Flink {@link FileSystem} (local paths included). */
public final class ParquetFiles {
    private ParquetFiles() {}

    /**
     * The data files under {@code path} (the file itself, or every file below a directory, skipping
     * hidden files starting with '.' or '_' as Flink's FileSource does), sorted by path.
     */
    public static List<Path> listFiles(Path path) {
        try {
            FileSystem fs = path.getFileSystem();
            FileStatus st = fs.getFileStatus(path);
            List<Path> out = new ArrayList<>();
            collect(fs, st, out);
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
     * {@value ResultSchema#DECIMAL_SCALE_PROP}, for passthrough to render the decimal.
     */
    public static Schema avroSchema(org.apache.parquet.schema.MessageType parquet) {
        Schema avro = new AvroSchemaConverter(avroConf()).convert(parquet);
        for (org.apache.parquet.schema.Type t : parquet.getFields()) {
            if (t.isPrimitive() && t.getLogicalTypeAnnotation()
                    instanceof org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d) {
                Schema.Field f = avro.getField(t.getName());
                if (f == null) continue;
                Schema s = f.schema();
                if (s.getType() == Schema.Type.UNION) s = s.getTypes().stream().filter(x -> x.getType() != Schema.Type.NULL).findFirst().orElse(s);
                if ((s.getType() == Schema.Type.INT || s.getType() == Schema.Type.LONG) && s.getLogicalType() == null) {
                    s.addProp(ResultSchema.DECIMAL_SCALE_PROP, d.getScale());
                }
            }
        }
        return avro;
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
            if (columns.contains(f.name())) fields.add(new Schema.Field(f, f.schema()));
        }
        for (String c : columns) {
            if (schema.getField(c) == null) {
                throw new IllegalArgumentException("input has no column '" + c + "'; its columns are "
                        + schema.getFields().stream().map(Schema.Field::name).toList());
            }
        }
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }
}
