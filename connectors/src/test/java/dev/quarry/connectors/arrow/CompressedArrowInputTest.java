package dev.quarry.connectors.arrow;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.FileInputs;
import dev.quarry.connectors.InputMapping;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.AbstractCompressionCodec;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil.CodecType;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Arrow IPC files with compressed record batch bodies (pyarrow's feather default is LZ4, or ZSTD) need
 * Arrow's compression module, which Quarry does not ship: reading one says so and names the file.
 */
class CompressedArrowInputTest {

    /**
     * Writes the IPC compression framing (uncompressed length + body) for a codec type without compressing:
     * enough for the file to declare LZ4/ZSTD bodies, as pyarrow's would.
     */
    static final class DeclaringCodec extends AbstractCompressionCodec {
        private final CodecType type;

        DeclaringCodec(CodecType type) {
            this.type = type;
        }

        @Override
        protected ArrowBuf doCompress(BufferAllocator allocator, ArrowBuf in) {
            long n = in.writerIndex();
            ArrowBuf out = allocator.buffer(n + 8);
            out.setLong(0, n);
            out.setBytes(8, in, 0, n);
            out.writerIndex(n + 8);
            return out;
        }

        @Override
        protected ArrowBuf doDecompress(BufferAllocator allocator, ArrowBuf in) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CodecType getCodecType() {
            return type;
        }
    }

    static void writeCompressed(Path file, CodecType type) throws Exception {
        CompressionCodec.Factory factory = new CompressionCodec.Factory() {
            @Override
            public CompressionCodec createCodec(CodecType t) {
                return new DeclaringCodec(t);
            }

            @Override
            public CompressionCodec createCodec(CodecType t, int level) {
                return new DeclaringCodec(t);
            }
        };
        try (RootAllocator a = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(
                        new Field("text", FieldType.nullable(ArrowType.Utf8.INSTANCE), null))), a);
                var out = Files.newOutputStream(file);
                ArrowFileWriter w = new ArrowFileWriter(root, null, Channels.newChannel(out), Map.of(), IpcOption.DEFAULT, factory, type)) {
            VarCharVector text = (VarCharVector) root.getVector("text");
            text.allocateNew();
            for (int i = 0; i < 5; i++) text.setSafe(i, new Text("some text to compress " + i));
            root.setRowCount(5);
            w.start();
            w.writeBatch();
            w.end();
        }
    }

    @Test
    void compressedFilesGiveAClearMessageNamingTheFile(@TempDir Path tmp) throws Exception {
        for (CodecType type : List.of(CodecType.LZ4_FRAME, CodecType.ZSTD)) {
            Path file = tmp.resolve("compressed-" + type + ".feather");
            writeCompressed(file, type);
            String where = new org.apache.flink.core.fs.Path(file.toUri()).toString();
            ArrowInputFormat format = new ArrowInputFormat(InputMapping.defaults());
            for (var read : List.<org.junit.jupiter.api.function.Executable>of(
                    () -> FileInputs.readAll(format, file),
                    () -> ArrowInputFormat.countRows(new org.apache.flink.core.fs.Path(file.toUri())))) {
                Throwable t = assertThrows(Throwable.class, read);
                String m = t.getMessage();
                assertTrue(m.contains(where) && m.contains(type.name()) && m.contains("compress") && m.contains("not supported")
                        && m.contains("compression=\"uncompressed\""), t.toString());
            }
        }
    }
}
