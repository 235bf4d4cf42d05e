package dev.quarry.connectors.parquet;

import dev.quarry.connectors.ResultRecord;
import dev.quarry.connectors.ResultSchema;
import java.io.IOException;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.avro.AvroParquetWriters;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;

/**
 * Writes {@link ResultRecord}s as Parquet with the typed columns of a {@link ResultSchema}. Through
 * {@link #sink} the files are written by Flink's FileSink: in-progress files roll on every checkpoint and
 * become visible (committed, renamed from hidden {@code .part-*.inprogress}) only once that checkpoint
 * completes, so a restored job never leaves duplicate rows in committed files.
 */
public final class ParquetResults {
    public static final String PART_PREFIX = "part";
    public static final String PARQUET_SUFFIX = ".parquet";

    private ParquetResults() {}

    public static FileSink<ResultRecord> sink(Path dir, ResultSchema schema) {
        return FileSink.forBulkFormat(dir, writerFactory(schema))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix(PART_PREFIX).withPartSuffix(PARQUET_SUFFIX).build())
                .build();
    }

    public static BulkWriter.Factory<ResultRecord> writerFactory(ResultSchema schema) {
        return new Factory(schema);
    }

    private static final class Factory implements BulkWriter.Factory<ResultRecord> {
        private static final long serialVersionUID = 1L;
        private final ResultSchema schema;

        Factory(ResultSchema schema) {
            this.schema = Objects.requireNonNull(schema, "schema");
        }

        @Override
        public BulkWriter<ResultRecord> create(FSDataOutputStream out) throws IOException {
            BulkWriter<GenericRecord> inner = AvroParquetWriters.forGenericRecord(schema.avroSchema()).create(out);
            return new BulkWriter<>() {
                @Override
                public void addElement(ResultRecord r) throws IOException {
                    inner.addElement(schema.toAvro(r));
                }

                @Override
                public void flush() throws IOException {
                    inner.flush();
                }

                @Override
                public void finish() throws IOException {
                    inner.finish();
                }
            };
        }
    }
}
