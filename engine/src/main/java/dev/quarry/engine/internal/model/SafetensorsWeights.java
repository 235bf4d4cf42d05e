package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A minimal model-side {@link WeightSource} over the {@code *.safetensors} files of a checkpoint directory
 * (memory-mapped per tensor; F32, BF16 and F16 widened to fp32, the compute dtype); see {@link #close()}
 * for the lifetime of large tensors. Used by the model's
 * own tools (benchmark, goldens against transformers' save_pretrained); the engine loads through the
 * checkpoint package, which also validates names and shapes against the config.
 */
public final class SafetensorsWeights implements WeightSource, AutoCloseable {
    /** Tensors at least this large are handed out without a copy; the caller must copy them before close(). */
    public static final long WRAP_MIN_BYTES = 1L << 20;


    private final java.util.List<ByteBuffer> live = new java.util.ArrayList<>();
    private record Entry(Path file, String dtype, long[] shape, long begin, long end) {}

    private final Map<String, Entry> entries = new HashMap<>();

    public SafetensorsWeights(Path dir) {
        Path index = dir.resolve("model.safetensors.index.json");
        try {
            if (Files.isRegularFile(index)) {
                // sharded: exactly the shards the index lists (a missing one is named)
                JsonNode wm;
                try {
                    wm = new ObjectMapper().readTree(index.toFile()).path("weight_map");
                } catch (IOException e) {
                    throw new IOException(index + ": not valid JSON: " + e.getMessage(), e);
                }
                if (!wm.isObject()) throw new IOException(index + ": no weight_map object");
                java.util.TreeSet<String> shards = new java.util.TreeSet<>();
                wm.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
                for (String shard : shards) {
                    Path f = dir.resolve(shard).normalize();
                    if (!f.getParent().equals(dir.normalize()) || !Files.isRegularFile(f)) {
                        throw new IOException(index + ": shard file " + shard + " is missing");
                    }
                    readHeader(f);
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> e = it.next();
                    Entry got = entries.get(e.getKey());
                    if (got == null || !got.file.getFileName().toString().equals(e.getValue().asText())) {
                        throw new IOException(dir.resolve(e.getValue().asText()) + ": tensor " + e.getKey()
                                + " is listed in model.safetensors.index.json but not in this shard");
                    }
                }
            } else {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".safetensors")).sorted()::iterator) {
                        readHeader(f);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (entries.isEmpty()) throw new IllegalArgumentException(dir + ": no *.safetensors file");
    }

    private void readHeader(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            if (ch.size() < 8) throw new IOException(f + ": too short for a safetensors file (" + ch.size() + " bytes)");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            if (n <= 0 || n > 100_000_000L || n + 8 > ch.size()) throw new IOException(f + ": bad safetensors header length " + n);
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            ch.read(hb, 8);
            JsonNode h;
            try {
                h = new ObjectMapper().readTree(hb.array());
            } catch (IOException e) {
                throw new IOException(f + ": safetensors header is not valid JSON: " + e.getMessage(), e);
            }
            if (h == null || !h.isObject()) throw new IOException(f + ": safetensors header is not a JSON object");
            long fileSize = ch.size();
            java.util.List<long[]> ranges = new java.util.ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                JsonNode t = e.getValue();
                String where = f + ": tensor " + e.getKey();
                if (!t.has("shape") || !t.has("data_offsets") || !t.has("dtype") || t.get("data_offsets").size() != 2) {
                    throw new IOException(where + ": header entry needs dtype, shape and two data_offsets");
                }
                JsonNode sh = t.get("shape");
                if (!sh.isArray()) throw new IOException(where + ": shape is not a list: " + sh);
                long[] shape = new long[sh.size()];
                for (int i = 0; i < shape.length; i++) {
                    JsonNode dim = sh.get(i);
                    if (!dim.isIntegralNumber() || !dim.canConvertToLong() || dim.asLong() < 0) {
                        throw new IOException(where + ": shape " + sh + " needs non-negative integer dimensions");
                    }
                    shape[i] = dim.asLong();
                }
                String dtype = t.get("dtype").asText();
                int width = dtype.equals("F32") ? 4 : dtype.equals("BF16") || dtype.equals("F16") ? 2 : -1;
                if (width < 0) throw new IOException(where + ": unsupported dtype " + dtype + " (F32, BF16, F16)");
                long bytes;
                try {
                    long count = 1;
                    for (long dim : shape) count = Math.multiplyExact(count, dim);
                    bytes = Math.multiplyExact(count, (long) width);
                } catch (ArithmeticException overflow) {
                    throw new IOException(where + ": shape " + sh + " of " + dtype + " is larger than any file");
                }
                for (JsonNode o : t.get("data_offsets")) {
                    if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
                        throw new IOException(where + ": data_offsets " + t.get("data_offsets")
                                + " needs two non-negative integers");
                    }
                }
                long b = 8 + n + t.get("data_offsets").get(0).asLong();
                long en = 8 + n + t.get("data_offsets").get(1).asLong();
                if (b < 8 + n || en < b) throw new IOException(where + ": bad data_offsets");
                if (en > fileSize) {
                    throw new IOException(where + ": data ends at byte " + en + " but the file has " + fileSize
                            + " bytes (truncated?)");
                }
                if (en - b != bytes) {
                    throw new IOException(where + ": " + (en - b) + " data bytes, but " + dtype + " " + java.util.Arrays.toString(shape)
                            + " needs " + bytes);
                }
                ranges.add(new long[] {b, en});
                entries.put(e.getKey(), new Entry(f, dtype, shape, b, en));
            }
            ranges.sort((x, y) -> Long.compare(x[0], y[0]));
            for (int i = 1; i < ranges.size(); i++) {
                if (ranges.get(i)[0] < ranges.get(i - 1)[1]) throw new IOException(f + ": tensors overlap in the data section");
            }
        }
    }

    /** Names as written by transformers 5.x save_pretrained (in-memory MoE names) for the on-disk names. */
    private static String alias(String name) {
        return name.replace("block_sparse_moe.router.layer.weight", "block_sparse_moe.router.weight")
                .replace("block_sparse_moe.input_linear.weight", "block_sparse_moe.experts.gate_up_proj")
                .replace("block_sparse_moe.output_linear.weight", "block_sparse_moe.experts.down_proj");
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        return e != null ? e : entries.get(alias(name));
    }

    public boolean has(String name) { return entry(name) != null; }

    /** Stored shape of a tensor, or null when absent. */
    public long[] shape(String name) {
        Entry e = entry(name);
        return e == null ? null : e.shape.clone();
    }

    /**
     * Checks the checkpoint against the tensors a config needs; throws naming the first missing or
     * mis-shaped tensor.
     */
    public SafetensorsWeights validate(Map<String, long[]> expected, Path dir) {
        for (Map.Entry<String, long[]> x : expected.entrySet()) {
            long[] got = shape(x.getKey());
            if (got == null) throw new IllegalArgumentException(dir + ": missing tensor " + x.getKey());
            if (!java.util.Arrays.equals(got, x.getValue())) {
                throw new IllegalArgumentException(dir + ": tensor " + x.getKey() + " has shape "
                        + java.util.Arrays.toString(got) + ", config needs " + java.util.Arrays.toString(x.getValue()));
            }
        }
        // Reject tensors the config does not account for (a wrong config or a foreign checkpoint). A tied
        // checkpoint that still carries lm_head.weight is tolerated: the model uses the embedding.
        java.util.Set<String> known = new java.util.HashSet<>();
        for (String k : expected.keySet()) {
            known.add(k);
            known.add(alias(k));
        }
        known.add("lm_head.weight");
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (!known.contains(e.getKey())) {
                throw new IllegalArgumentException(e.getValue().file + ": unexpected tensor " + e.getKey()
                        + " (not part of the model config.json describes)");
            }
        }
        return this;
    }

    @Override
    public NDArray get(NDManager manager, String name, boolean fp32) {
        Entry e = entry(name);
        if (e == null) throw new IllegalArgumentException("checkpoint has no tensor " + name);
        long count = 1;
        for (long d : e.shape) count *= d;
        try (FileChannel ch = FileChannel.open(e.file, StandardOpenOption.READ)) {
            ByteBuffer src = ch.map(FileChannel.MapMode.READ_ONLY, e.begin, e.end - e.begin).order(ByteOrder.LITTLE_ENDIAN);
            int width = e.dtype.equals("F32") ? 4 : e.dtype.equals("BF16") || e.dtype.equals("F16") ? 2 : -1;
            if (width < 0) throw new IllegalArgumentException(e.file + ": tensor " + name + " has unsupported dtype " + e.dtype);
            if (src.remaining() != count * width) {
                throw new IllegalArgumentException(e.file + ": tensor " + name + " byte size does not match its shape");
            }
            Shape shape = new Shape(e.shape);
            if (e.dtype.equals("F16")) { // torch widens it straight from the mapping (DJL creates float16)
                NDArray half = manager.create(src, shape, DataType.FLOAT16);
                try {
                    return half.toType(DataType.FLOAT32, true);
                } finally {
                    half.close();
                    release(src);
                }
            }
            if (e.dtype.equals("BF16")) {
                // DJL 0.35 cannot create a bf16 array (see Bf16) nor reinterpret bits, so the widening (bf16 = the top
                // half of an fp32) is a chunked copy written straight into an uninitialized fp32 array's memory
                NDArray out = manager.create(shape, DataType.FLOAT32);
                try {
                    ByteBuffer dst = out.toByteBuffer(true).order(ByteOrder.nativeOrder());
                    if (!dst.isDirect()) throw new IllegalStateException("DJL returned a copy, not the array's memory");
                    widenBf16(src.asShortBuffer(), dst.asIntBuffer());
                } catch (RuntimeException ex) {
                    out.close();
                    throw ex;
                } finally {
                    release(src);
                }
                return out;
            }
            NDArray wrapped = manager.create(src, shape, DataType.FLOAT32);
            if (count * 4 < WRAP_MIN_BYTES) {
                // small tensors are kept as they are: take an owned copy and release the buffer now
                NDArray owned = wrapped.duplicate();
                wrapped.close();
                release(src);
                return owned;
            }
            // large tensors may be wrapped without a copy: the model copies them into its own layout at load
            // and close() releases the mapping afterwards (so resident memory stays ~1x the weights)
            live.add(src);
            return wrapped;
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read tensor " + name + " from " + e.file + ": " + ex.getMessage(), ex);
        }
    }

    private static final Object UNSAFE;
    private static final java.lang.reflect.Method INVOKE_CLEANER;

    static {
        Object u = null;
        java.lang.reflect.Method m = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            java.lang.reflect.Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            u = f.get(null);
            m = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            u = null;
            m = null;
        }
        UNSAFE = u;
        INVOKE_CLEANER = m;
    }

    /**
     * Releases the mappings and buffers behind the large tensors handed out so far: every such tensor must
     * have been copied (and closed) by then.
     */
    @Override
    public void close() {
        for (ByteBuffer b : live) release(b);
        live.clear();
    }

    /** Unmaps / frees a direct buffer now (best effort; otherwise the GC does it later). */
    private static void release(ByteBuffer b) {
        if (INVOKE_CLEANER == null || !b.isDirect()) return;
        try {
            INVOKE_CLEANER.invoke(UNSAFE, b);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // a slice or duplicate cannot be cleaned directly; leave it to the GC
        }
    }

    /** bf16 bit patterns -> fp32 bit patterns (the bf16 bits become the top half), in chunks. */
    private static void widenBf16(java.nio.ShortBuffer in, java.nio.IntBuffer out) {
        short[] half = new short[CONVERT_CHUNK];
        int[] bits = new int[CONVERT_CHUNK];
        while (in.hasRemaining()) {
            int n = Math.min(CONVERT_CHUNK, in.remaining());
            in.get(half, 0, n);
            for (int i = 0; i < n; i++) bits[i] = (half[i] & 0xFFFF) << 16;
            out.put(bits, 0, n);
        }
    }

    private static final int CONVERT_CHUNK = 1 << 16;
}
