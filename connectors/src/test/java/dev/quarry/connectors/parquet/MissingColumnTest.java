package dev.quarry.connectors.parquet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file read with a schema that has an optional column the file lacks (files of one input differing in their
 * columns) reads that column as null.
 */
class MissingColumnTest {
    @Test
    void anOptionalColumnTheFileLacksReadsAsNull(@TempDir Path tmp) throws Exception {
        Schema narrow = SchemaBuilder.record("row").fields().requiredString("id").requiredString("text").endRecord();
        Schema wide = SchemaBuilder.record("row").fields().requiredString("id").requiredString("text").optionalLong("extra").endRecord();
        Path file = tmp.resolve("narrow.parquet");
        GenericData.Record g = new GenericData.Record(narrow);
        g.put("id", "a");
        g.put("text", "hello");
        ParquetFiles.writeLocal(file, narrow, List.of(g));
        List<InputRecord> rows = FileInputs.readAll(new ParquetInputFormat(InputMapping.defaults(), wide), file);
        assertEquals(1, rows.size());
        assertEquals("a", rows.get(0).id);
        assertEquals("hello", rows.get(0).text);
        assertEquals(Map.of("extra", "null"), rows.get(0).passthrough);
    }
}
