package dev.quarry.connectors.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultSchema.ColumnType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An Arrow IPC file written by pyarrow (tools/make_arrow_interop_file.py) is read as input. */
class ArrowInteropTest {

    @Test
    void readsAFileWrittenByPyarrow() throws Exception {
        Path file = Path.of(getClass().getResource("/interop/pyarrow-input.arrow").toURI());
        org.apache.flink.core.fs.Path p = new org.apache.flink.core.fs.Path(file.toUri());
        var schema = ArrowInputFormat.readSchema(p);
        assertEquals(ColumnType.LONG, ArrowSchemas.columnType(schema.findField("doc_id")));
        assertEquals(ColumnType.DOUBLE, ArrowSchemas.columnType(schema.findField("score")));
        assertEquals(ColumnType.JSON, ArrowSchemas.columnType(schema.findField("tags")));
        assertEquals(4, ArrowInputFormat.countRows(p));

        ArrowInputFormat format = new ArrowInputFormat(InputMapping.builder().idField("doc_id").textField("body").build());
        List<InputRecord> rows = dev.quarry.connectors.FileInputs.readAll(format, file);
        assertEquals(4, rows.size());
        assertEquals("1", rows.get(0).id);
        assertEquals("alpha", rows.get(0).text);
        assertEquals("0.5", rows.get(0).passthrough.get("score"));
        assertEquals("[\"x\"]", rows.get(0).passthrough.get("tags"));
        assertTrue(rows.get(1).invalidReason.startsWith("missing_text_field"), rows.get(1).invalidReason);
        assertEquals("delta é", rows.get(3).text);
        assertEquals("null", rows.get(3).passthrough.get("score"));
        assertNull(rows.get(3).invalidReason);
        assertEquals(3L, rows.get(3).sourceRow);
    }
}
