package dev.quarry.connectors.arrow;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.Json;
import dev.quarry.connectors.RowFileFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DateMilliVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeMicroVector;
import org.apache.arrow.vector.TimeMilliVector;
import org.apache.arrow.vector.TimeNanoVector;
import org.apache.arrow.vector.TimeSecVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.compression.NoCompressionCodec;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Reads Arrow IPC files (file format, as written by {@code pyarrow.ipc.new_file} or
 * {@code pyarrow.feather.write_feather(..., compression="uncompressed")}) into {@link InputRecord}s.
 * Works on any Flink file system; only the id, text and passthrough columns are converted.
 */
public final class ArrowInputFormat extends RowFileFormat {
    private static final long serialVersionUID = 1L;

    public ArrowInputFormat(InputMapping mapping) {
        super(mapping);
    }

    public static FileSource<InputRecord> source(InputMapping mapping, Path... paths) {
        return FileSource.forBulkFileFormat(new ArrowInputFormat(mapping), paths).build();
    }

    /** The schema of an Arrow IPC file. */
    public static Schema readSchema(Path file) throws IOException {
        try {
            FileSystem fs = file.getFileSystem();
            long len = fs.getFileStatus(file).getLen();
            try (FSDataInputStream in = fs.open(file);
                    BufferAllocator a = new RootAllocator();
                    ArrowFileReader r = new ArrowFileReader(new FsChannel(in, len), a, codecs(file))) {
                return valueSchema(r.getVectorSchemaRoot().getSchema(), r);
            }
        } catch (IOException | RuntimeException e) {
            throw RowFileFormat.named(file, "reading its schema", e);
        }
    }

    /**
     * The schema with each dictionary-encoded column given its value type (Arrow's in-memory schema has
     * the index type there), so passthrough types are those of the values.
     */
    static Schema valueSchema(Schema memory, DictionaryProvider dictionaries) {
        List<Field> fields = new ArrayList<>();
        for (Field f : memory.getFields()) {
            DictionaryEncoding enc = f.getDictionary();
            if (enc == null) {
                fields.add(f);
            } else {
                Field values = dictionaries.lookup(enc.getId()).getVector().getField();
                fields.add(new Field(f.getName(), new FieldType(f.isNullable(), values.getType(), null, f.getMetadata()), values.getChildren()));
            }
        }
        return new Schema(fields, memory.getCustomMetadata());
    }

    /**
     * Row {@code i} of {@code v} as Arrow's Java value; a dictionary-encoded column gives the value, not the
     * index. Unsigned integers are never negative (64-bit ones are decimal strings). Decimals, dates, times and timestamps become strings: plain decimal ({@code "12.34"}), ISO-8601
     * date, time, and timestamp ({@code "2024-02-29T13:45:30.123Z"} for a timestamp with a time zone, i.e. a UTC
     * instant; without the {@code Z} for one without).
     */
    static Object valueAt(FieldVector v, int i, DictionaryProvider dictionaries) {
        if (v.isNull(i)) return null;
        DictionaryEncoding enc = v.getField().getDictionary();
        if (enc != null) {
            long index = ((BaseIntVector) v).getValueAsLong(i);
            return valueAt(dictionaries.lookup(enc.getId()).getVector(), Math.toIntExact(index), dictionaries);
        }
        ArrowType t = v.getField().getType();
        if (t instanceof ArrowType.Int n && !n.getIsSigned()) {   // unsigned: never negative; 64-bit as a decimal string
            long raw = ((BaseIntVector) v).getValueAsLong(i);
            return n.getBitWidth() == 64 ? Long.toUnsignedString(raw) : (Object) (raw & ((1L << n.getBitWidth()) - 1));
        }
        if (t instanceof ArrowType.Decimal) return ((java.math.BigDecimal) v.getObject(i)).toPlainString();
        if (t instanceof ArrowType.Date) {
            long days = v instanceof DateDayVector d ? d.get(i) : Math.floorDiv(((DateMilliVector) v).get(i), 86_400_000L);
            return LocalDate.ofEpochDay(days).toString();
        }
        if (t instanceof ArrowType.Time time) {
            long raw = v instanceof TimeSecVector s ? s.get(i) : v instanceof TimeMilliVector m ? m.get(i)
                    : v instanceof TimeMicroVector u ? u.get(i) : ((TimeNanoVector) v).get(i);
            return DateTimeFormatter.ISO_LOCAL_TIME.format(LocalTime.ofNanoOfDay(raw * nanosPer(time.getUnit())));
        }
        if (t instanceof ArrowType.Timestamp ts) {
            long raw = ((TimeStampVector) v).get(i);
            long per = nanosPer(ts.getUnit());
            long perSecond = 1_000_000_000L / per;
            Instant instant = Instant.ofEpochSecond(Math.floorDiv(raw, perSecond), Math.floorMod(raw, perSecond) * per);
            return ts.getTimezone() == null ? DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(LocalDateTime.ofInstant(instant, ZoneOffset.UTC))
                    : DateTimeFormatter.ISO_INSTANT.format(instant);
        }
        return v.getObject(i);
    }

    private static long nanosPer(TimeUnit unit) {
        return switch (unit) {
            case SECOND -> 1_000_000_000L;
            case MILLISECOND -> 1_000_000L;
            case MICROSECOND -> 1_000L;
            case NANOSECOND -> 1L;
        };
    }

    /** Rows in an Arrow IPC file (reads the record batches). */
    public static long countRows(Path file) throws IOException {
        long n = 0;
        try {
            FileSystem fs = file.getFileSystem();
            long len = fs.getFileStatus(file).getLen();
            // the footer lists the record batches; each batch's metadata message gives its row count, so the
            // bodies (the data) are never read: counting a large dataset for the progress bar stays cheap
            try (FSDataInputStream in = fs.open(file);
                    BufferAllocator a = new RootAllocator();
                    FsChannel channel = new FsChannel(in, len);
                    ArrowFileReader r = new ArrowFileReader(channel, a, codecs(file))) {
                for (org.apache.arrow.vector.ipc.message.ArrowBlock block : r.getRecordBlocks()) {
                    channel.position(block.getOffset());
                    var meta = org.apache.arrow.vector.ipc.message.MessageSerializer.readMessage(
                            new org.apache.arrow.vector.ipc.ReadChannel(channel));
                    if (meta == null || meta.getMessage().headerType() != org.apache.arrow.flatbuf.MessageHeader.RecordBatch) {
                        throw new IOException("the record batch at offset " + block.getOffset() + " has no record batch header");
                    }
                    var batch = (org.apache.arrow.flatbuf.RecordBatch) meta.getMessage().header(new org.apache.arrow.flatbuf.RecordBatch());
                    if (batch.compression() != null) {   // refuse a codec we cannot read now, before the job starts
                        codecs(file).createCodec(CompressionUtil.CodecType.fromCompressionType(batch.compression().codec()));
                    }
                    n += batch.length();
                }
            }
        } catch (IOException | RuntimeException e) {
            throw RowFileFormat.named(file, "counting its rows", e);
        }
        return n;
    }

    @Override
    protected Rows open(Configuration config, Path path, long fileSize) throws IOException {
        FileSystem fs = path.getFileSystem();
        FSDataInputStream in = fs.open(path);
        BufferAllocator allocator = new RootAllocator();
        ArrowFileReader reader = new ArrowFileReader(new FsChannel(in, fileSize), allocator, codecs(path));
        VectorSchemaRoot root;
        try {
            root = reader.getVectorSchemaRoot();
            if (root.getSchema().findField(mapping.textField()) == null) {
                throw new IOException("Arrow file " + path + " has no text column '" + mapping.textField() + "'; its columns are "
                        + root.getSchema().getFields().stream().map(Field::getName).toList());
            }
        } catch (IOException | RuntimeException e) {
            reader.close();
            allocator.close();
            in.close();
            throw e instanceof IOException io ? io : new IOException("cannot read Arrow file " + path + ": " + e.getMessage(), e);
        }
        return new Rows() {
            int row;
            int rowsInBatch;

            @Override
            public InputRecord next() throws IOException {
                while (row >= rowsInBatch) {
                    if (!reader.loadNextBatch()) return null;
                    row = 0;
                    rowsInBatch = root.getRowCount();
                }
                return toInput(root, reader, row++);
            }

            @Override
            public void close() throws IOException {
                try {
                    reader.close();
                } finally {
                    allocator.close();
                    in.close();
                }
            }
        };
    }

    private InputRecord toInput(VectorSchemaRoot root, DictionaryProvider dictionaries, int i) {
        InputRecord r = new InputRecord();
        if (mapping.idField() != null) {
            FieldVector id = root.getVector(mapping.idField());
            if (id != null && !id.isNull(i)) r.id = plain(valueAt(id, i, dictionaries)).toString();
        }
        FieldVector text = root.getVector(mapping.textField());
        Object t = valueAt(text, i, dictionaries);
        if (t == null) r.invalidReason = "missing_text_field: column '" + mapping.textField() + "' is null";
        else if (t instanceof byte[] b) {   // binary column: UTF-8 text without the type saying so
            r.text = utf8(b);
            if (r.text == null) r.invalidReason = "wrong_type: column '" + mapping.textField() + "' is binary and not valid UTF-8";
        } else if (!(t instanceof Text)) r.invalidReason = "wrong_type: column '" + mapping.textField() + "' is " + text.getField().getType() + ", expected utf8";
        else r.text = t.toString();
        for (FieldVector v : root.getFieldVectors()) {
            if (mapping.passes(v.getName())) r.passthrough.put(v.getName(), Json.encode(plain(valueAt(v, i, dictionaries))));
        }
        if (r.invalidReason != null) r.raw = Json.encode(r.passthrough).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return r;
    }

    /**
     * Record batch body codecs for reading {@code file}: Arrow's own (found when its compression module is on
     * the classpath, which Quarry does not ship), else a clear error naming the file and the codec.
     */
    static CompressionCodec.Factory codecs(Path file) {
        return new CompressionCodec.Factory() {
            @Override
            public CompressionCodec createCodec(CompressionUtil.CodecType type) {
                return create(type, () -> CompressionCodec.Factory.INSTANCE.createCodec(type));
            }

            @Override
            public CompressionCodec createCodec(CompressionUtil.CodecType type, int level) {
                return create(type, () -> CompressionCodec.Factory.INSTANCE.createCodec(type, level));
            }

            private CompressionCodec create(CompressionUtil.CodecType type, java.util.function.Supplier<CompressionCodec> arrows) {
                if (type == CompressionUtil.CodecType.NO_COMPRESSION) return NoCompressionCodec.INSTANCE;
                try {
                    return arrows.get();
                } catch (RuntimeException e) {
                    throw new UnsupportedOperationException("Arrow file " + file + " has " + type
                            + "-compressed record batches; compressed Arrow IPC/feather input is not supported. Write it uncompressed,"
                            + " e.g. pyarrow.feather.write_feather(table, path, compression=\"uncompressed\") or pyarrow.ipc.new_file(...)"
                            + " without IpcWriteOptions(compression=...)", e);
                }
            }
        };
    }

    /** Arrow's Java values as plain JSON-able values (Text -> String, byte[] -> base64, nested lists/maps). */
    public static Object plain(Object v) {
        if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) return v;
        if (v instanceof Text t) return t.toString();
        if (v instanceof byte[] b) return Base64.getEncoder().encodeToString(b);
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object o : l) out.add(plain(o));
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(plain(k)), plain(x)));
            return out;
        }
        return v.toString();
    }

    /** A read-only seekable channel over a Flink input stream (for {@code ArrowFileReader}). */
    public static SeekableByteChannel channel(FSDataInputStream in, long size) {
        return new FsChannel(in, size);
    }

    /** A read-only seekable channel over a Flink input stream. */
    static final class FsChannel implements SeekableByteChannel {
        private final FSDataInputStream in;
        private final long size;
        private boolean open = true;

        FsChannel(FSDataInputStream in, long size) {
            this.in = in;
            this.size = size;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int want = dst.remaining();
            if (want == 0) return 0;
            byte[] buf = new byte[Math.min(want, 1 << 16)];
            int n = in.read(buf, 0, buf.length);
            if (n > 0) dst.put(buf, 0, n);
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public long position() throws IOException {
            return in.getPos();
        }

        @Override
        public SeekableByteChannel position(long p) throws IOException {
            in.seek(p);
            return this;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public SeekableByteChannel truncate(long s) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;   // the stream is closed by its owner
        }
    }
}
