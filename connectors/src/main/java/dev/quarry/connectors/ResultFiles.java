package dev.quarry.connectors;

import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.parquet.ParquetFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetInputFile;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;

/**
 * Reads committed result files back (Parquet {@code .parquet} or Arrow {@code .arrow} part files;
 * hidden in-progress files are skipped): rows as maps for previews, and totals for run summaries.
 */
public final class ResultFiles {
    private ResultFiles() {}

    /** Totals over a results or errors dataset. */
    public record Stats(long rows, Map<String, Long> errorsByKind, long promptTokens, long generatedTokens, List<String> ids) {
        public static Stats empty() {
            return new Stats(0, Map.of(), 0, 0, List.of());
        }

        public Stats plus(Stats o) {
            Map<String, Long> e = new TreeMap<>(errorsByKind);
            o.errorsByKind.forEach((k, v) -> e.merge(k, v, Long::sum));
            List<String> all = new ArrayList<>(ids);
            all.addAll(o.ids);
            return new Stats(rows + o.rows, e, promptTokens + o.promptTokens, generatedTokens + o.generatedTokens, all);
        }
    }

    /** Reads up to {@code limit} rows (column name -> Java value; strings as String). A missing directory reads as empty. */
    public static List<Map<String, Object>> read(Path dir, long limit) {
        List<Map<String, Object>> out = new ArrayList<>();
        try {
            if (!dir.getFileSystem().exists(dir)) return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path f : ParquetFiles.listFiles(dir)) {
            if (out.size() >= limit) break;
            try {
                if (f.getName().endsWith(".arrow")) readArrow(f, limit, out);
                else readParquet(f, limit, out);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read results file " + f + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** Row count, errors by kind, token sums and ids of a results or errors dataset. */
    public static Stats stats(Path dir) {
        long rows = 0, pt = 0, gt = 0;
        Map<String, Long> errors = new TreeMap<>();
        List<String> ids = new ArrayList<>();
        for (Map<String, Object> r : read(dir, Long.MAX_VALUE)) {
            rows++;
            Object kind = r.get(ResultSchema.ERROR_KIND);
            if (kind != null) errors.merge(kind.toString(), 1L, Long::sum);
            pt += ((Number) r.getOrDefault(ResultSchema.PROMPT_TOKENS, 0)).longValue();
            gt += ((Number) r.getOrDefault(ResultSchema.GENERATED_TOKENS, 0)).longValue();
            ids.add(String.valueOf(r.get(ResultSchema.ID)));
        }
        return new Stats(rows, errors, pt, gt, ids);
    }

    private static void readParquet(Path f, long limit, List<Map<String, Object>> out) throws IOException {
        FileSystem fs = f.getFileSystem();
        long len = fs.getFileStatus(f).getLen();
        try (FSDataInputStream in = fs.open(f);
                ParquetReader<GenericRecord> r = AvroParquetReader.<GenericRecord>builder(new ParquetInputFile(in, len))
                        .withDataModel(GenericData.get()).withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            for (GenericRecord g = r.read(); g != null && out.size() < limit; g = r.read()) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (org.apache.avro.Schema.Field field : g.getSchema().getFields()) m.put(field.name(), plain(g.get(field.pos())));
                out.add(m);
            }
        }
    }

    private static void readArrow(Path f, long limit, List<Map<String, Object>> out) throws IOException {
        FileSystem fs = f.getFileSystem();
        long len = fs.getFileStatus(f).getLen();
        try (FSDataInputStream in = fs.open(f);
                BufferAllocator a = new RootAllocator();
                ArrowFileReader reader = new ArrowFileReader(ArrowInputFormat.channel(in, len), a)) {
            while (out.size() < limit && reader.loadNextBatch()) {
                VectorSchemaRoot root = reader.getVectorSchemaRoot();
                for (int i = 0; i < root.getRowCount() && out.size() < limit; i++) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (FieldVector v : root.getFieldVectors()) m.put(v.getName(), ArrowInputFormat.plain(v.getObject(i)));
                    out.add(m);
                }
            }
        }
    }

    private static Object plain(Object v) {
        if (v instanceof CharSequence s) return s.toString();
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> o = new LinkedHashMap<>();
            m.forEach((k, x) -> o.put(k.toString(), plain(x)));
            return o;
        }
        if (v instanceof List<?> l) {
            List<Object> o = new ArrayList<>();
            for (Object x : l) o.add(plain(x));
            return o;
        }
        return v;
    }
}
