package dev.quarry.connectors;

import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;

final class FileSourceFactory {
    static FileSource<InputRecord> of(RowFileFormat f, Path... p) {
        return FileSource.forBulkFileFormat(f, p).build();
    }
}
