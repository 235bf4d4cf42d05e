package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.connectors.parquet.ParquetFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading committed result files back: totals, ids, and walking a dataset row by row with a limit. */
class ResultFilesTest {
    static final Schema RESULT = SchemaBuilder.record("result").fields()
            .requiredString(ResultSchema.ID).optionalString(ResultSchema.ERROR_KIND)
            .requiredLong(ResultSchema.PROMPT_TOKENS).requiredLong(ResultSchema.GENERATED_TOKENS).endRecord();

    static void write(Path file, int from, int to) throws Exception {
        List<GenericRecord> rows = new ArrayList<>();
        for (int i = from; i < to; i++) {
            GenericData.Record g = new GenericData.Record(RESULT);
            g.put(ResultSchema.ID, "r" + i);
            g.put(ResultSchema.ERROR_KIND, i % 10 == 3 ? "empty_input" : null);
            g.put(ResultSchema.PROMPT_TOKENS, 2L);
            g.put(ResultSchema.GENERATED_TOKENS, (long) i);
            rows.add(g);
        }
        ParquetFiles.writeLocal(file, RESULT, rows);
    }

    @Test
    void totalsIdsAndALimitedWalkOverSeveralPartFiles(@TempDir Path tmp) throws Exception {
        write(tmp.resolve("part-0.parquet"), 0, 30);
        write(tmp.resolve("part-1.parquet"), 30, 50);
        write(tmp.resolve(".part-2.parquet.inprogress"), 50, 60); // in-progress files are not results
        org.apache.flink.core.fs.Path dir = new org.apache.flink.core.fs.Path(tmp.toUri());

        ResultFiles.Stats s = ResultFiles.stats(dir);
        assertEquals(50, s.rows());
        assertEquals(Map.of("empty_input", 5L), s.errorsByKind());
        assertEquals(100, s.promptTokens());
        assertEquals(49 * 50 / 2, s.generatedTokens());
        assertEquals(50, ResultFiles.ids(dir).size());
        assertEquals("r49", ResultFiles.ids(dir).get(49));

        List<Object> seen = new ArrayList<>();
        assertEquals(35, ResultFiles.forEachRow(dir, 35, r -> seen.add(r.get(ResultSchema.ID))), "stops inside the second file");
        assertEquals(35, seen.size());
        assertEquals("r34", seen.get(34));
        assertEquals(30, ResultFiles.read(dir, 30).size(), "stops at a file boundary");
        assertEquals(0, ResultFiles.stats(new org.apache.flink.core.fs.Path(tmp.resolve("missing").toUri())).rows());
    }
}
