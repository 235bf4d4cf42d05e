package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.util.Text;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Unreadable Parquet and Arrow inputs fail with a message that names the file. */
class BadInputFilesTest {
    static final Schema ROW = SchemaBuilder.record("row").fields().requiredString("id").requiredString("text").endRecord();

    static void writeParquet(Path file, Schema schema, int n) throws Exception {
        List<GenericRecord> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            GenericData.Record g = new GenericData.Record(schema);
            for (Schema.Field f : schema.getFields()) g.put(f.name(), f.name() + "-" + i);
            rows.add(g);
        }
        ParquetFiles.writeLocal(file, schema, rows);
    }

    static void writeArrow(Path file, int n) throws Exception {
        try (RootAllocator a = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(new org.apache.arrow.vector.types.pojo.Schema(List.of(
                        new Field("text", FieldType.nullable(ArrowType.Utf8.INSTANCE), null))), a);
                var out = Files.newOutputStream(file);
                ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
            VarCharVector text = (VarCharVector) root.getVector("text");
            text.allocateNew();
            for (int i = 0; i < n; i++) text.setSafe(i, new Text("t" + i));
            root.setRowCount(n);
            w.start();
            w.writeBatch();
            w.end();
        }
    }

    static void truncate(Path file) throws Exception {
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length / 2));
    }

    static void assertNamesFile(Path file, Executable e) {
        Throwable t = assertThrows(Throwable.class, e);
        String where = new org.apache.flink.core.fs.Path(file.toUri()).toString();
        assertTrue(String.valueOf(t.getMessage()).contains(where) || String.valueOf(t.getMessage()).contains(file.toString()),
                "message should name " + file + ": " + t);
    }

    @Test
    void truncatedParquetFileIsNamed(@TempDir Path tmp) throws Exception {
        Path good = tmp.resolve("good.parquet");
        writeParquet(good, ROW, 50);
        Path bad = tmp.resolve("bad.parquet");
        writeParquet(bad, ROW, 50);
        truncate(bad);
        org.apache.flink.core.fs.Path badPath = new org.apache.flink.core.fs.Path(bad.toUri());
        assertNamesFile(bad, () -> ParquetFiles.readSchema(badPath));
        assertNamesFile(bad, () -> ParquetFiles.countRows(badPath));
        assertNamesFile(bad, () -> ParquetFiles.footer(badPath));
        ParquetInputFormat format = new ParquetInputFormat(InputMapping.defaults(), ROW);
        assertEquals(50, FileInputs.readAll(format, good).size());
        assertNamesFile(bad, () -> FileInputs.readAll(format, bad));
    }

    @Test
    void garbageParquetFileIsNamed(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("garbage.parquet");
        Files.write(bad, "PAR1 this is not parquet at all PAR1".getBytes());
        assertNamesFile(bad, () -> ParquetFiles.readSchema(new org.apache.flink.core.fs.Path(bad.toUri())));
        assertNamesFile(bad, () -> FileInputs.readAll(new ParquetInputFormat(InputMapping.defaults(), ROW), bad));
    }

    @Test
    void parquetFileWithoutTheProjectedColumnsIsNamed(@TempDir Path tmp) throws Exception {
        Schema other = SchemaBuilder.record("row").fields().requiredString("id").requiredString("body").endRecord();
        Path bad = tmp.resolve("other-schema.parquet");
        writeParquet(bad, other, 3);
        Throwable t = assertThrows(Throwable.class, () -> FileInputs.readAll(new ParquetInputFormat(InputMapping.defaults(), ROW), bad));
        assertTrue(t.getMessage().contains(new org.apache.flink.core.fs.Path(bad.toUri()).toString()) && t.getMessage().contains("no text column 'text'"), t.toString());
    }

    @Test
    void truncatedArrowFileIsNamed(@TempDir Path tmp) throws Exception {
        Path good = tmp.resolve("good.arrow");
        writeArrow(good, 20);
        Path bad = tmp.resolve("bad.arrow");
        writeArrow(bad, 20);
        truncate(bad);
        org.apache.flink.core.fs.Path badPath = new org.apache.flink.core.fs.Path(bad.toUri());
        assertNamesFile(bad, () -> ArrowInputFormat.readSchema(badPath));
        assertNamesFile(bad, () -> ArrowInputFormat.countRows(badPath));
        ArrowInputFormat format = new ArrowInputFormat(InputMapping.defaults());
        assertEquals(20, FileInputs.readAll(format, good).size());
        assertNamesFile(bad, () -> FileInputs.readAll(format, bad));
        Path garbage = tmp.resolve("garbage.arrow");
        Files.write(garbage, "ARROW1 not really".getBytes());
        assertNamesFile(garbage, () -> FileInputs.readAll(format, garbage));
        assertNamesFile(garbage, () -> ArrowInputFormat.readSchema(new org.apache.flink.core.fs.Path(garbage.toUri())));
    }
}
