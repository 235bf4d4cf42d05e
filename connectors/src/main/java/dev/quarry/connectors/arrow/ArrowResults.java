package dev.quarry.connectors.arrow;

import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.ResultSchema;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.complex.impl.UnionMapWriter;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.util.Text;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;

/**
 * Writes {@link ResultRecord}s as Arrow IPC <em>file</em> format ({@code .arrow}, readable by
 * {@code pyarrow.ipc.open_file} / {@code pyarrow.feather.read_table}), with the same columns as the
 * Parquet output. Rows are buffered into record batches of {@value #BATCH_ROWS}; through {@link #sink}
 * files roll and commit on checkpoints like the Parquet sink.
 */
public final class ArrowResults {
    public static final String ARROW_SUFFIX = ".arrow";
    public static final int BATCH_ROWS = 1024;

    private ArrowResults() {}

    public static FileSink<ResultRecord> sink(Path dir, ResultSchema schema) {
        return FileSink.forBulkFormat(dir, writerFactory(schema))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(ARROW_SUFFIX).build())
                .build();
    }

    public static BulkWriter.Factory<ResultRecord> writerFactory(ResultSchema schema) {
        return new Factory(schema);
    }

    /** Writes results to any stream (closing the writer does not close the stream). */
    public static Writer open(ResultSchema schema, OutputStream out) throws IOException {
        return new Writer(schema, out);
    }

    private static final class Factory implements BulkWriter.Factory<ResultRecord> {
        private static final long serialVersionUID = 1L;
        private final ResultSchema schema;

        Factory(ResultSchema schema) {
            this.schema = Objects.requireNonNull(schema, "schema");
        }

        @Override
        public BulkWriter<ResultRecord> create(FSDataOutputStream out) throws IOException {
            return new Writer(schema, out);
        }
    }

    /** One Arrow IPC file. {@link #finish()} writes the footer and frees native memory. */
    public static final class Writer implements BulkWriter<ResultRecord>, AutoCloseable {
        private final ResultSchema schema;
        private final BufferAllocator allocator;
        private final VectorSchemaRoot root;
        private final ArrowFileWriter writer;
        private int rows;
        private boolean finished;

        Writer(ResultSchema schema, OutputStream out) throws IOException {
            this.schema = schema;
            this.allocator = new RootAllocator();
            this.root = VectorSchemaRoot.create(ArrowSchemas.resultSchema(schema), allocator);
            OutputStream keepOpen = new FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    out.flush();
                }
            };
            this.writer = new ArrowFileWriter(root, null, Channels.newChannel(keepOpen));
            writer.start();
            startBatch();
        }

        private void startBatch() {
            root.allocateNew();
            rows = 0;
        }

        @Override
        public void addElement(ResultRecord r) throws IOException {
            GenericRecord g = schema.toAvro(r);
            for (org.apache.avro.Schema.Field f : g.getSchema().getFields()) {
                set(root.getVector(f.name()), rows, g.get(f.pos()));
            }
            rows++;
            if (rows >= BATCH_ROWS) writeBatch();
        }

        private void writeBatch() throws IOException {
            if (rows == 0) return;
            root.setRowCount(rows);
            writer.writeBatch();
            startBatch();
        }

        @Override
        public void flush() throws IOException {
            writeBatch();
        }

        @Override
        public void finish() throws IOException {
            if (finished) return;
            finished = true;
            try {
                writeBatch();
                writer.end();
            } finally {
                root.close();
                allocator.close();
            }
        }

        @Override
        public void close() throws IOException {
            finish();
        }

        @SuppressWarnings("unchecked")
        private static void set(FieldVector v, int i, Object value) {
            if (value == null) {
                if (!(v instanceof ListVector)) v.setNull(i);   // list/map holes are filled on setValueCount
                return;
            }
            if (v instanceof VarCharVector s) s.setSafe(i, new Text(value.toString()));
            else if (v instanceof BigIntVector b) b.setSafe(i, ((Number) value).longValue());
            else if (v instanceof IntVector n) n.setSafe(i, ((Number) value).intValue());
            else if (v instanceof Float8Vector d) d.setSafe(i, ((Number) value).doubleValue());
            else if (v instanceof Float4Vector d) d.setSafe(i, ((Number) value).floatValue());
            else if (v instanceof BitVector b) b.setSafe(i, ((Boolean) value) ? 1 : 0);
            else if (v instanceof MapVector m) {
                UnionMapWriter w = m.getWriter();
                w.setPosition(i);
                w.startMap();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    w.startEntry();
                    w.key().varChar().writeVarChar(new Text(e.getKey().toString()));
                    if (e.getValue() == null) w.value().float8().writeNull();
                    else w.value().float8().writeFloat8(((Number) e.getValue()).doubleValue());
                    w.endEntry();
                }
                w.endMap();
            } else if (v instanceof ListVector l) {
                UnionListWriter w = l.getWriter();
                w.setPosition(i);
                w.startList();
                FieldVector child = l.getDataVector();
                for (Object item : (List<Object>) value) {
                    if (item == null) {
                        if (child instanceof VarCharVector) w.varChar().writeNull();
                        else if (child instanceof BigIntVector) w.bigInt().writeNull();
                        else if (child instanceof Float8Vector) w.float8().writeNull();
                        else w.bit().writeNull();
                    } else if (child instanceof VarCharVector) w.writeVarChar(new Text(item.toString()));
                    else if (child instanceof BigIntVector) w.writeBigInt(((Number) item).longValue());
                    else if (child instanceof Float8Vector) w.writeFloat8(((Number) item).doubleValue());
                    else if (child instanceof BitVector) w.writeBit(((Boolean) item) ? 1 : 0);
                }
                w.endList();
            } else {
                throw new IllegalArgumentException("unsupported Arrow vector " + v.getClass().getSimpleName() + " for column " + v.getName());
            }
        }
    }
}
