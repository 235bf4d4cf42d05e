package dev.quarry.connectors;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/** Reads every record of one file through a {@link RowFileFormat}'s reader, as the FileSource would. */
public final class FileInputs {
    private FileInputs() {}

    public static List<InputRecord> readAll(RowFileFormat format, java.nio.file.Path file) throws Exception {
        Path p = new Path(file.toUri());
        long size = FileSystem.getLocalFileSystem().getFileStatus(p).getLen();
        FileSourceSplit split = new FileSourceSplit("s0", p, 0, size, 0, size);
        List<InputRecord> rows = new ArrayList<>();
        try (BulkFormat.Reader<InputRecord> reader = format.createReader(new Configuration(), split)) {
            for (BulkFormat.RecordIterator<InputRecord> batch = reader.readBatch(); batch != null; batch = reader.readBatch()) {
                for (RecordAndPosition<InputRecord> r = batch.next(); r != null; r = batch.next()) rows.add(r.getRecord());
                batch.releaseBatch();
            }
        }
        return rows;
    }
}
