package dev.quarry.connectors.parquet;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultSchema;
import dev.quarry.connectors.RowFileFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetInputFile;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.hadoop.api.InitContext;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * Reads Parquet files into {@link InputRecord}s, decoding only the id, text and passthrough columns
 * (a projection schema). A row whose text is null or not a string becomes an invalid record (with the
 * reason) rather than failing the job. Works on any Flink file system.
 */
public final class ParquetInputFormat extends RowFileFormat {
    private static final long serialVersionUID = 1L;

    private final String projectionJson;
    private transient Schema projection;

    /**
     * @param fileSchema the Avro schema of the input files ({@link ParquetFiles#readSchema})
     */
    public ParquetInputFormat(InputMapping mapping, Schema fileSchema) {
        super(mapping);
        this.projectionJson = ParquetFiles.project(fileSchema, neededColumns(mapping, fileSchema)).toString();
    }

    /** A {@link FileSource} over files or directories (any Flink file system). */
    public static FileSource<InputRecord> source(InputMapping mapping, Schema fileSchema, Path... paths) {
        return FileSource.forBulkFileFormat(new ParquetInputFormat(mapping, fileSchema), paths).build();
    }

    /** id (when present in the file), text, and passthrough columns. */
    public static List<String> neededColumns(InputMapping mapping, Schema fileSchema) {
        if (ResultSchema.inputField(fileSchema, mapping.textField()) == null) {
            throw new IllegalArgumentException("input has no text column '" + mapping.textField() + "'; its columns are "
                    + fileSchema.getFields().stream().map(ResultSchema::inputName).toList());
        }
        Set<String> cols = new LinkedHashSet<>();
        if (mapping.idField() != null && ResultSchema.inputField(fileSchema, mapping.idField()) != null) cols.add(mapping.idField());
        cols.add(mapping.textField());
        if (mapping.passthroughFields() != null) cols.addAll(mapping.passthroughFields());
        else for (Schema.Field f : fileSchema.getFields()) if (mapping.passes(ResultSchema.inputName(f))) cols.add(ResultSchema.inputName(f));
        return new ArrayList<>(cols);
    }

    /** The passthrough columns of a file schema under a mapping. */
    public static List<String> passthroughColumns(InputMapping mapping, Schema fileSchema) {
        List<String> out = new ArrayList<>();
        for (String c : neededColumns(mapping, fileSchema)) if (mapping.passes(c)) out.add(c);
        return out;
    }

    public Schema projection() {
        if (projection == null) projection = new Schema.Parser().parse(projectionJson);
        return projection;
    }

    @Override
    protected Rows open(Configuration config, Path path, long fileSize) throws IOException {
        FileSystem fs = path.getFileSystem();
        FSDataInputStream in = fs.open(path);
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration(false);
        conf.setBoolean(AvroReadSupport.READ_INT96_AS_FIXED, true);   // legacy timestamps, rendered in ResultSchema
        AvroReadSupport.setAvroReadSchema(conf, projection());
        ParquetReader<GenericRecord> reader;
        try {
            org.apache.parquet.schema.MessageType fileSchema = ParquetFiles.footer(path).getFileMetaData().getSchema();
            if (!fileSchema.containsField(mapping.textField())) {
                throw new IOException("Parquet file " + path + " has no text column '" + mapping.textField() + "'; its columns are "
                        + fileSchema.getFields().stream().map(org.apache.parquet.schema.Type::getName).toList());
            }
            reader = new ProjectingReader(new ParquetInputFile(in, fileSize), projection()).withConf(conf).build();
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e.getMessage() != null && e.getMessage().contains(path.toString()) && e instanceof IOException io ? io
                    : new IOException("cannot read Parquet file " + path + ": " + e.getMessage(), e);
        }
        return new Rows() {
            @Override
            public InputRecord next() throws IOException {
                GenericRecord g = reader.read();
                return g == null ? null : toInput(g);
            }

            @Override
            public void close() throws IOException {
                try {
                    reader.close();
                } finally {
                    in.close();
                }
            }
        };
    }

    /**
     * Reads only the projection's columns, chosen by name from the file's own Parquet schema (not the
     * projection converted back from Avro, which would not match INT96 or INT32/INT64 decimal columns).
     */
    private static final class ProjectingReader extends ParquetReader.Builder<GenericRecord> {
        private final Schema projection;

        ProjectingReader(InputFile file, Schema projection) {
            super(file);
            this.projection = projection;
        }

        @Override
        protected ReadSupport<GenericRecord> getReadSupport() {
            return new AvroReadSupport<>(GenericData.get()) {
                @Override
                public ReadContext init(InitContext context) {
                    ReadContext all = super.init(context);
                    MessageType file = context.getFileSchema();
                    List<Type> keep = new ArrayList<>();
                    for (Type t : file.getFields()) if (ResultSchema.inputField(projection, t.getName()) != null) keep.add(t);
                    return new ReadContext(new MessageType(file.getName(), keep), all.getReadSupportMetadata());
                }

                @Override
                public RecordMaterializer<GenericRecord> prepareForRead(org.apache.hadoop.conf.Configuration conf,
                        Map<String, String> meta, MessageType fileSchema, ReadContext context) {
                    return super.prepareForRead(conf, meta, fileSchema, avroNamed(context));
                }

                @Override
                public RecordMaterializer<GenericRecord> prepareForRead(ParquetConfiguration conf,
                        Map<String, String> meta, MessageType fileSchema, ReadContext context) {
                    return super.prepareForRead(conf, meta, fileSchema, avroNamed(context));
                }
            };
        }

        /**
         * The requested columns under the projection's Avro field names, for the record materializer (which
         * matches Avro fields by name; the columns themselves are read by position, so renaming is safe).
         */
        private ReadSupport.ReadContext avroNamed(ReadSupport.ReadContext context) {
            MessageType requested = context.getRequestedSchema();
            List<Type> named = new ArrayList<>();
            for (Type t : requested.getFields()) named.add(ParquetFiles.avroSafe(t, ResultSchema.inputField(projection, t.getName()).name()));
            return new ReadSupport.ReadContext(new MessageType(requested.getName(), named), context.getReadSupportMetadata());
        }
    }

    InputRecord toInput(GenericRecord g) {
        InputRecord r = new InputRecord();
        String idField = mapping.idField();
        Schema.Field idColumn = idField == null ? null : ResultSchema.inputField(g.getSchema(), idField);
        if (idColumn != null) {
            Object id = g.get(idColumn.pos());
            if (id instanceof java.nio.ByteBuffer bb) {   // binary id: its UTF-8 text, else base64
                byte[] bytes = new byte[bb.remaining()];
                bb.duplicate().get(bytes);
                r.id = utf8(bytes);
                if (r.id == null) r.id = java.util.Base64.getEncoder().encodeToString(bytes);
            } else if (id != null) {
                r.id = id.toString();
            }
        }
        Object text = g.get(ResultSchema.inputField(g.getSchema(), mapping.textField()).pos());
        if (text == null) {
            r.invalidReason = "missing_text_field: column '" + mapping.textField() + "' is null";
        } else if (text instanceof java.nio.ByteBuffer bb) {   // binary without a UTF-8 annotation
            byte[] bytes = new byte[bb.remaining()];
            bb.duplicate().get(bytes);
            r.text = utf8(bytes);
            if (r.text == null) r.invalidReason = "wrong_type: column '" + mapping.textField() + "' is binary and not valid UTF-8";
        } else if (!(text instanceof CharSequence)) {
            r.invalidReason = "wrong_type: column '" + mapping.textField() + "' holds " + text.getClass().getSimpleName() + ", expected a string";
        } else {
            r.text = text.toString();
        }
        for (Schema.Field f : g.getSchema().getFields()) {
            String column = ResultSchema.inputName(f);
            if (mapping.passes(column)) r.passthrough.put(column, ResultSchema.avroValueToJson(g.get(f.pos()), f.schema()));
        }
        if (r.invalidReason != null) r.raw = g.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return r;
    }
}
