package dev.quarry.connectors.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.InputMapping;
import dev.quarry.connectors.InputRecord;
import dev.quarry.connectors.ResultSchema.ColumnType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.core.fs.FileSystem;
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
        long size = FileSystem.getLocalFileSystem().getFileStatus(p).getLen();
        FileSourceSplit split = new FileSourceSplit("s0", p, 0, size, 0, size);
        List<InputRecord> rows = new ArrayList<>();
        try (BulkFormat.Reader<InputRecord> reader = format.createReader(new Configuration(), split)) {
            for (BulkFormat.RecordIterator<InputRecord> batch = reader.readBatch(); batch != null; batch = reader.readBatch()) {
                for (RecordAndPosition<InputRecord> r = batch.next(); r != null; r = batch.next()) rows.add(r.getRecord());
                batch.releaseBatch();
            }
        }
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
