package dev.quarry.connectors.parquet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParquetFilesTest {
    static List<String> names(Path root) {
        return ParquetFiles.listFiles(new org.apache.flink.core.fs.Path(root.toUri())).stream()
                .map(p -> p.getParent().getName() + "/" + p.getName()).toList();
    }

    @Test
    void hiddenEntriesBelowTheInputAreSkippedButNeverTheInputItself(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("_staging"));
        Files.writeString(root.resolve("b.parquet"), "x");
        Files.writeString(root.resolve("_SUCCESS"), "");
        Files.writeString(root.resolve(".b.parquet.crc"), "");
        Files.createDirectories(root.resolve("_temporary/0"));
        Files.writeString(root.resolve("_temporary/0/c.parquet"), "x");
        Files.createDirectories(root.resolve("day=1"));
        Files.writeString(root.resolve("day=1/a.parquet"), "x");
        assertEquals(List.of("_staging/b.parquet", "day=1/a.parquet"), names(root));
        assertEquals(List.of("_staging/_SUCCESS"), names(root.resolve("_SUCCESS")), "a file named explicitly is read");
    }
}
