package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A text column stored as binary without a UTF-8 annotation (older Hive/Impala writers, Arrow binary) is
 * decoded as UTF-8 (a binary id column too); bytes that are not UTF-8 make that row a wrong_type error naming the column.
 */
class BinaryTextColumnTest {
    static final byte[] NOT_UTF8 = {(byte) 0xC3, (byte) 0x28};

    @Test
    void parquetBinaryText(@TempDir Path tmp) throws Exception {
        MessageType schema = MessageTypeParser.parseMessageType("message row { optional binary id; optional binary body; }");
        Path file = tmp.resolve("binary.parquet");
        SimpleGroupFactory f = new SimpleGroupFactory(schema);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(schema)
                .withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            w.write(f.newGroup().append("id", Binary.fromString("r1")).append("body", Binary.fromConstantByteArray("héllo".getBytes(StandardCharsets.UTF_8))));
            w.write(f.newGroup().append("body", Binary.fromConstantByteArray(NOT_UTF8)));
        }
        var fileSchema = ParquetFiles.readSchema(new org.apache.flink.core.fs.Path(file.toUri()));
        List<InputRecord> rows = FileInputs.readAll(new ParquetInputFormat(InputMapping.builder().textField("body").build(), fileSchema), file);
        check(rows);
        assertEquals("r1", rows.get(0).id);   // a binary id column is read as UTF-8 too
    }

    @Test
    void arrowBinaryText(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("binary.arrow");
        try (RootAllocator a = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(new org.apache.arrow.vector.types.pojo.Schema(List.of(
                        new Field("body", FieldType.nullable(ArrowType.Binary.INSTANCE), null))), a);
                var out = Files.newOutputStream(file);
                ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
            VarBinaryVector body = (VarBinaryVector) root.getVector("body");
            body.allocateNew();
            body.setSafe(0, "héllo".getBytes(StandardCharsets.UTF_8));
            body.setSafe(1, NOT_UTF8);
            root.setRowCount(2);
            w.start();
            w.writeBatch();
            w.end();
        }
        check(FileInputs.readAll(new ArrowInputFormat(InputMapping.builder().textField("body").build()), file));
    }

    static void check(List<InputRecord> rows) {
        assertEquals(2, rows.size());
        assertNull(rows.get(0).invalidReason, rows.get(0).invalidReason);
        assertEquals("héllo", rows.get(0).text);
        String why = rows.get(1).invalidReason;
        assertTrue(why != null && why.startsWith("wrong_type: column 'body'") && why.contains("UTF-8"), why);
    }
}
