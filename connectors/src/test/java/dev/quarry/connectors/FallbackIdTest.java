package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rows without an id get {@code <full file path>#<row>}: same-named files in different folders do not collide. */
class FallbackIdTest {
    static final Schema NO_ID = SchemaBuilder.record("row").fields().requiredString("text").endRecord();

    @Test
    void sameFileNameInTwoFoldersGivesDistinctIds(@TempDir Path tmp) throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a")).resolve("part.parquet");
        Path b = Files.createDirectories(tmp.resolve("b")).resolve("part.parquet");
        BadInputFilesTest.writeParquet(a, NO_ID, 3);
        BadInputFilesTest.writeParquet(b, NO_ID, 3);
        ParquetInputFormat format = new ParquetInputFormat(InputMapping.defaults(), NO_ID);
        List<InputRecord> ra = FileInputs.readAll(format, a);
        List<InputRecord> rb = FileInputs.readAll(format, b);
        Set<String> ids = new HashSet<>();
        for (InputRecord r : ra) ids.add(r.id);
        for (InputRecord r : rb) ids.add(r.id);
        assertEquals(6, ids.size(), ids.toString());
        assertEquals(new org.apache.flink.core.fs.Path(a.toUri()) + "#2", ra.get(2).id);
        assertEquals(new org.apache.flink.core.fs.Path(b.toUri()) + "#0", rb.get(0).id);

        Path c = Files.createDirectories(tmp.resolve("c")).resolve("part.arrow");
        Path d = Files.createDirectories(tmp.resolve("d")).resolve("part.arrow");
        BadInputFilesTest.writeArrow(c, 2);
        BadInputFilesTest.writeArrow(d, 2);
        ArrowInputFormat arrow = new ArrowInputFormat(InputMapping.defaults());
        String idC = FileInputs.readAll(arrow, c).get(1).id;
        String idD = FileInputs.readAll(arrow, d).get(1).id;
        assertTrue(!idC.equals(idD) && idC.contains("/c/part.arrow#1") && idD.contains("/d/part.arrow#1"), idC + " vs " + idD);
    }
}
