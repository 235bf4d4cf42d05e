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
import java.util.function.Consumer;
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

    /** Totals over a results or errors dataset (constant memory however many rows it has). */
    public record Stats(long rows, Map<String, Long> errorsByKind, long promptTokens, long generatedTokens) {
        public static Stats empty() {
            return new Stats(0, Map.of(), 0, 0);
        }

        public Stats plus(Stats o) {
            Map<String, Long> e = new TreeMap<>(errorsByKind);
            o.errorsByKind.forEach((k, v) -> e.merge(k, v, Long::sum));
            return new Stats(rows + o.rows, e, promptTokens + o.promptTokens, generatedTokens + o.generatedTokens);
        }
    }

    /** Reads up to {@code limit} rows (column name -> Java value; strings as String). A missing directory reads as empty. */
    public static List<Map<String, Object>> read(Path dir, long limit) {
        List<Map<String, Object>> out = new ArrayList<>();
        forEachRow(dir, limit, out::add);
        return out;
    }

    /**
     * Hands every row of a results or errors dataset to {@code row}, one at a time and in file order, up to
     * {@code limit} rows; nothing is kept, so a dataset larger than the heap can be walked. A missing directory
     * has no rows.
     *
     * @return the number of rows handed over
     */
    public static long forEachRow(Path dir, long limit, Consumer<Map<String, Object>> row) {
        try {
            if (!dir.getFileSystem().exists(dir)) return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long[] seen = {0};
        Consumer<Map<String, Object>> counting = m -> {
            seen[0]++;
            row.accept(m);
        };
        for (Path f : ParquetFiles.listFiles(dir)) {
            long left = limit - seen[0];
            if (left <= 0) break;
            try {
                if (f.getName().endsWith(".arrow")) readArrow(f, left, counting);
                else readParquet(f, left, counting);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read results file " + f + ": " + e.getMessage(), e);
            }
        }
        return seen[0];
    }

    /** Row count, errors by kind and token sums of a results or errors dataset, read row by row. */
    public static Stats stats(Path dir) {
        long[] sums = new long[3]; // rows, prompt tokens, generated tokens
        Map<String, Long> errors = new TreeMap<>();
        forEachRow(dir, Long.MAX_VALUE, r -> {
            sums[0]++;
            Object kind = r.get(ResultSchema.ERROR_KIND);
            if (kind != null) errors.merge(kind.toString(), 1L, Long::sum);
            sums[1] += ((Number) r.getOrDefault(ResultSchema.PROMPT_TOKENS, 0)).longValue();
            sums[2] += ((Number) r.getOrDefault(ResultSchema.GENERATED_TOKENS, 0)).longValue();
        });
        return new Stats(sums[0], errors, sums[1], sums[2]);
    }

    /** The ids of every row of a results or errors dataset, in file order (for checks; it holds them all). */
    public static List<String> ids(Path dir) {
        List<String> ids = new ArrayList<>();
        forEachRow(dir, Long.MAX_VALUE, r -> ids.add(String.valueOf(r.get(ResultSchema.ID))));
        return ids;
    }

    private static void readParquet(Path f, long limit, Consumer<Map<String, Object>> out) throws IOException {
        FileSystem fs = f.getFileSystem();
        long len = fs.getFileStatus(f).getLen();
        try (FSDataInputStream in = fs.open(f);
                ParquetReader<GenericRecord> r = AvroParquetReader.<GenericRecord>builder(new ParquetInputFile(in, len))
                        .withDataModel(GenericData.get()).withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            GenericRecord g;
            for (long n = 0; n < limit && (g = r.read()) != null; n++) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (org.apache.avro.Schema.Field field : g.getSchema().getFields()) m.put(field.name(), plain(g.get(field.pos())));
                out.accept(m);
            }
        }
    }

    private static void readArrow(Path f, long limit, Consumer<Map<String, Object>> out) throws IOException {
        FileSystem fs = f.getFileSystem();
        long len = fs.getFileStatus(f).getLen();
        try (FSDataInputStream in = fs.open(f);
                BufferAllocator a = new RootAllocator();
                ArrowFileReader reader = new ArrowFileReader(ArrowInputFormat.channel(in, len), a)) {
            long n = 0;
            while (n < limit && reader.loadNextBatch()) {
                VectorSchemaRoot root = reader.getVectorSchemaRoot();
                for (int i = 0; i < root.getRowCount() && n < limit; i++, n++) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (FieldVector v : root.getFieldVectors()) m.put(v.getName(), ArrowInputFormat.plain(v.getObject(i)));
                    out.accept(m);
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
