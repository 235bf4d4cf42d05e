package dev.quarry.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.quarry.connectors.ResultSchema.ColumnType;
import dev.quarry.connectors.ResultSchema.TaskKind;
import dev.quarry.connectors.arrow.ArrowInputFormat;
import dev.quarry.connectors.arrow.ArrowResults;
import dev.quarry.connectors.arrow.ArrowSchemas;
import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.connectors.parquet.ParquetInputFormat;
import dev.quarry.connectors.parquet.ParquetResults;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.UInt8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.util.Text;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unsigned integer input columns never come out negative: 8/16-bit as int, 32-bit as long, 64-bit as a
 * decimal string (it may not fit a signed long).
 */
class UnsignedIntegersTest {
    /** Column -> (type, JSON passthrough value, value read back from result files) for the row of maxima. */
    static final Map<String, Object[]> EXPECTED = new LinkedHashMap<>();

    static {
        EXPECTED.put("u8", new Object[] {ColumnType.INT, "255", 255});
        EXPECTED.put("u16", new Object[] {ColumnType.INT, "65535", 65535});
        EXPECTED.put("u32", new Object[] {ColumnType.LONG, "4294967295", 4294967295L});
        EXPECTED.put("u64", new Object[] {ColumnType.STRING, "\"18446744073709551615\"", "18446744073709551615"});
    }

    @Test
    void parquetUnsignedColumns(@TempDir Path tmp) throws Exception {
        MessageType schema = MessageTypeParser.parseMessageType("""
                message row {
                  required binary text (STRING);
                  optional int32 u8 (INTEGER(8,false));
                  optional int32 u16 (INTEGER(16,false));
                  optional int32 u32 (INTEGER(32,false));
                  optional int64 u64 (INTEGER(64,false));
                }
                """);
        Path file = tmp.resolve("unsigned.parquet");
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(schema)
                .withConf(new org.apache.hadoop.conf.Configuration(false)).build()) {
            w.write(new SimpleGroupFactory(schema).newGroup().append("text", "t").append("u8", 255).append("u16", 65535)
                    .append("u32", -1).append("u64", -1L));
        }
        var fileSchema = ParquetFiles.readSchema(new org.apache.flink.core.fs.Path(file.toUri()));
        InputMapping mapping = InputMapping.defaults();
        ResultSchema rs = ResultSchema.builder(TaskKind.PROMPT)
                .passthroughFrom(fileSchema, ParquetInputFormat.passthroughColumns(mapping, fileSchema)).build();
        check(tmp, rs, FileInputs.readAll(new ParquetInputFormat(mapping, fileSchema), file));
    }

    @Test
    void arrowUnsignedColumns(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("unsigned.arrow");
        try (BufferAllocator a = new RootAllocator()) {
            VarCharVector text = new VarCharVector("text", a);
            text.allocateNew();
            text.setSafe(0, new Text("t"));
            UInt1Vector u8 = new UInt1Vector("u8", a);
            u8.allocateNew();
            u8.set(0, (byte) -1);
            UInt2Vector u16 = new UInt2Vector("u16", a);
            u16.allocateNew();
            u16.set(0, (char) 65535);
            UInt4Vector u32 = new UInt4Vector("u32", a);
            u32.allocateNew();
            u32.set(0, -1);
            UInt8Vector u64 = new UInt8Vector("u64", a);
            u64.allocateNew();
            u64.set(0, -1L);
            List<FieldVector> vs = new ArrayList<>(List.of(text, u8, u16, u32, u64));
            for (FieldVector v : vs) v.setValueCount(1);
            try (VectorSchemaRoot root = new VectorSchemaRoot(vs);
                    var out = Files.newOutputStream(file);
                    ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
                root.setRowCount(1);
                w.start();
                w.writeBatch();
                w.end();
            }
        }
        var schema = ArrowInputFormat.readSchema(new org.apache.flink.core.fs.Path(file.toUri()));
        ResultSchema.Builder b = ResultSchema.builder(TaskKind.PROMPT);
        for (var f : schema.getFields()) if (!f.getName().equals("text")) b.passthrough(f.getName(), ArrowSchemas.columnType(f));
        check(tmp, b.build(), FileInputs.readAll(new ArrowInputFormat(InputMapping.defaults()), file));
    }

    static void check(Path tmp, ResultSchema rs, List<InputRecord> rows) throws Exception {
        assertEquals(1, rows.size());
        for (ResultSchema.Column c : rs.passthrough()) assertEquals(EXPECTED.get(c.sourceName())[0], c.type(), c.sourceName());
        for (Map.Entry<String, Object[]> e : EXPECTED.entrySet()) assertEquals(e.getValue()[1], rows.get(0).passthrough.get(e.getKey()), e.getKey());
        for (String ext : List.of(".parquet", ".arrow")) {
            Path out = tmp.resolve("out" + ext);
            BulkWriter.Factory<ResultRecord> factory = ext.equals(".parquet") ? ParquetResults.writerFactory(rs) : ArrowResults.writerFactory(rs);
            try (FSDataOutputStream os = FileSystem.getLocalFileSystem().create(new org.apache.flink.core.fs.Path(out.toUri()), FileSystem.WriteMode.OVERWRITE)) {
                BulkWriter<ResultRecord> w = factory.create(os);
                w.addElement(ResultRecord.carry(rows.get(0), "prompt"));
                w.finish();
            }
            Map<String, Object> back = ResultFiles.read(new org.apache.flink.core.fs.Path(out.toUri()), 1).get(0);
            for (Map.Entry<String, Object[]> e : EXPECTED.entrySet()) assertEquals(e.getValue()[2], back.get(e.getKey()), out + " " + e.getKey());
        }
    }
}
