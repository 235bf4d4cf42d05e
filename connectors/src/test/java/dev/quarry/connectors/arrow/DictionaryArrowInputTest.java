package dev.quarry.connectors.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultSchema.ColumnType;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryEncoder;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.util.Text;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dictionary-encoded Arrow columns (pandas categoricals, pyarrow dictionary arrays) read as their values. */
class DictionaryArrowInputTest {

    static VarCharVector strings(String name, BufferAllocator a, String... values) {
        VarCharVector v = new VarCharVector(name, a);
        v.allocateNew();
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) v.setNull(i);
            else v.setSafe(i, new Text(values[i]));
        }
        v.setValueCount(values.length);
        return v;
    }

    @Test
    void dictionaryEncodedTextAndPassthroughDecodeToTheirValues(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("dict.arrow");
        try (BufferAllocator a = new RootAllocator();
                VarCharVector textDict = strings("text-dict", a, "hello", "world");
                VarCharVector colorDict = strings("color-dict", a, "red", "green", "blue");
                VarCharVector text = strings("text", a, "world", "hello", null, "world");
                VarCharVector color = strings("color", a, "blue", null, "red", "green");
                BigIntVector id = new BigIntVector("id", a)) {
            id.allocateNew(4);
            for (int i = 0; i < 4; i++) id.set(i, 100 + i);
            id.setValueCount(4);
            Dictionary d1 = new Dictionary(textDict, new DictionaryEncoding(1L, false, new ArrowType.Int(8, true)));
            Dictionary d2 = new Dictionary(colorDict, new DictionaryEncoding(2L, false, new ArrowType.Int(32, true)));
            DictionaryProvider.MapDictionaryProvider provider = new DictionaryProvider.MapDictionaryProvider(d1, d2);
            try (FieldVector textEnc = (FieldVector) DictionaryEncoder.encode(text, d1);
                    FieldVector colorEnc = (FieldVector) DictionaryEncoder.encode(color, d2);
                    VectorSchemaRoot root = new VectorSchemaRoot(List.<FieldVector>of(id, textEnc, colorEnc));
                    var out = Files.newOutputStream(file);
                    ArrowFileWriter w = new ArrowFileWriter(root, provider, Channels.newChannel(out))) {
                root.setRowCount(4);
                w.start();
                w.writeBatch();
                w.end();
            }
        }
        var schema = ArrowInputFormat.readSchema(new org.apache.flink.core.fs.Path(file.toUri()));
        assertEquals(ColumnType.STRING, ArrowSchemas.columnType(schema.findField("color")));
        assertEquals(ColumnType.STRING, ArrowSchemas.columnType(schema.findField("text")));

        assertEquals(4, ArrowInputFormat.countRows(new org.apache.flink.core.fs.Path(file.toUri())), "dictionary batches hold no rows");
        List<InputRecord> rows = FileInputs.readAll(new ArrowInputFormat(InputMapping.defaults()), file);
        assertEquals(4, rows.size());
        assertNull(rows.get(0).invalidReason, rows.get(0).invalidReason);
        assertEquals("100", rows.get(0).id);
        assertEquals("world", rows.get(0).text);
        assertEquals("\"blue\"", rows.get(0).passthrough.get("color"));
        assertEquals("hello", rows.get(1).text);
        assertEquals("null", rows.get(1).passthrough.get("color"));
        assertTrue(rows.get(2).invalidReason.startsWith("missing_text_field"), rows.get(2).invalidReason);
        assertEquals("\"red\"", rows.get(2).passthrough.get("color"));
        assertEquals("world", rows.get(3).text);
        assertEquals("\"green\"", rows.get(3).passthrough.get("color"));
    }
}
