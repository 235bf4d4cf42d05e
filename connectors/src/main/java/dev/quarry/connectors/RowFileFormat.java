package dev.quarry.connectors;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.IteratorResultIterator;
import org.apache.flink.core.fs.Path;

/**
 * A non-splittable {@link BulkFormat} that turns each file into {@link InputRecord}s row by row. The
 * checkpointed position is the number of rows already emitted from the file, so a restored reader
 * skips exactly those rows. Subclasses open one file as a {@link Rows} cursor.
 */
public abstract class RowFileFormat implements BulkFormat<InputRecord, FileSourceSplit> {
    private static final long serialVersionUID = 1L;

    /** Rows handed to Flink per batch. */
    public static final int DEFAULT_BATCH_ROWS = 256;

    protected final InputMapping mapping;

    protected RowFileFormat(InputMapping mapping) {
        this.mapping = Objects.requireNonNull(mapping, "mapping");
    }

    /** A cursor over the rows of one file. */
    protected interface Rows extends AutoCloseable {
        /** The next row (never null while rows remain), or null at the end of the file. */
        InputRecord next() throws IOException;

        @Override
        void close() throws IOException;
    }

    /** Opens {@code path}; {@code rowIndexStart} is 0 (rows to skip are skipped by the caller). */
    protected abstract Rows open(Configuration config, Path path, long fileSize) throws IOException;

    @Override
    public Reader<InputRecord> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new RowReader(openNamed(config, split.path(), split.fileSize()), split.path(), 0);
    }

    @Override
    public Reader<InputRecord> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long skip = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        Rows rows = openNamed(config, split.path(), split.fileSize());
        try {
            for (long i = 0; i < skip; i++) {
                if (rows.next() == null) break;
            }
        } catch (IOException | RuntimeException e) {
            rows.close();
            throw named(split.path(), "skipping the first " + skip + " rows", e);
        }
        return new RowReader(rows, split.path(), skip);
    }

    private Rows openNamed(Configuration config, Path path, long fileSize) throws IOException {
        try {
            return open(config, path, fileSize);
        } catch (IOException | RuntimeException e) {
            throw named(path, "opening it", e);
        }
    }

    /**
     * An exception from reading {@code path} as an IOException whose message names the file (a library's
     * own message often names only an internal stream object); one that already names it is kept.
     */
    public static IOException named(Path path, String when, Throwable e) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains(path.toString())) return e instanceof IOException io ? io : new IOException(msg, e);
        return new IOException("cannot read input file " + path + " (" + when + "): "
                + (e.getMessage() == null ? e.toString() : e.getClass().getSimpleName() + ": " + msg), e);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<InputRecord> getProducedType() {
        return TypeInformation.of(InputRecord.class);
    }

    /** Strict UTF-8 decoding of a binary text value; null when the bytes are not valid UTF-8. */
    protected static String utf8(byte[] bytes) {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    /**
     * Sets the file position and, when the row has no id, the fallback id {@code <path>#<row>} with the
     * file's full path (as the source lists it), so same-named files in different folders do not collide.
     */
    protected static void place(InputRecord r, Path path, long row) {
        r.sourceFile = path.toString();
        r.sourceRow = row;
        if (r.id == null) r.id = r.sourceFile + "#" + row;
    }

    private static final class RowReader implements Reader<InputRecord> {
        private final Rows rows;
        private final Path path;
        private long emitted;

        RowReader(Rows rows, Path path, long emitted) {
            this.rows = rows;
            this.path = path;
            this.emitted = emitted;
        }

        @Override
        public RecordIterator<InputRecord> readBatch() throws IOException {
            List<InputRecord> batch = new ArrayList<>(DEFAULT_BATCH_ROWS);
            long start = emitted;
            while (batch.size() < DEFAULT_BATCH_ROWS) {
                InputRecord r;
                try {
                    r = rows.next();
                } catch (IOException | RuntimeException e) {
                    throw named(path, "at row " + emitted, e);
                }
                if (r == null) break;
                place(r, path, emitted);
                emitted++;
                batch.add(r);
            }
            if (batch.isEmpty()) return null;
            return new IteratorResultIterator<>(batch.iterator(), CheckpointedPosition.NO_OFFSET, start);
        }

        @Override
        public void close() throws IOException {
            rows.close();
        }
    }
}
