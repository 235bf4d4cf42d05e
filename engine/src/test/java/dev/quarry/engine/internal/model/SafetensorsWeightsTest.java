package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.engine.model.GraniteConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading from safetensors files: f32 equals the in-memory weights, sharded equals unsharded, bf16 close. */
class SafetensorsWeightsTest {
    @TempDir
    Path dir;

    /** F16 and BF16 tensors widen to the exact fp32 values of their bit patterns (normals, subnormals, inf). */
    @Test
    void sixteenBitTensorsWidenExactly() throws IOException {
        short[] f16 = {0x3C00, (short) 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00};
        float[] f16Want = {1f, -2f, 0.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY};
        short[] bf16 = {0x3F80, (short) 0xC000, 0x4049, 0x0001, 0x7F80};
        float[] bf16Want = {1f, -2f, 3.140625f, Float.intBitsToFloat(0x00010000), Float.POSITIVE_INFINITY};
        ByteBuffer data = ByteBuffer.allocate(2 * (f16.length + bf16.length)).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : f16) data.putShort(v);
        for (short v : bf16) data.putShort(v);
        String header = "{\"half\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                + "\"brain\":{\"dtype\":\"BF16\",\"shape\":[5],\"data_offsets\":[12,22]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + h.length + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(h.length).put(h).put(data.array());
        Files.write(dir.resolve("model.safetensors"), file.array());
        try (SafetensorsWeights w = new SafetensorsWeights(dir); NDManager m = NDManager.newBaseManager()) {
            NDArray half = w.get(m, "half", true);
            assertEquals(DataType.FLOAT32, half.getDataType());
            assertEquals(new ai.djl.ndarray.types.Shape(2, 3), half.getShape());
            assertArrayEquals(f16Want, half.toFloatArray());
            assertArrayEquals(bf16Want, w.get(m, "brain", true).toFloatArray());
        }
    }

    @Test
    void shardedAndBf16CheckpointsComputeTheSameModel() throws IOException {
        GraniteConfig c = RandomWeights.tiny(true, true);
        FormulaWeights src = new FormulaWeights(c);
        Path one = Files.createDirectories(dir.resolve("one"));
        Path three = Files.createDirectories(dir.resolve("three"));
        Path bf = Files.createDirectories(dir.resolve("bf16"));
        write(c, src, one, 1, false);
        write(c, src, three, 3, false);
        write(c, src, bf, 2, true);
        int[][] prompts = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {12, 13}};
        float[] base = logits(c, src, prompts);
        assertArrayEquals(base, logits(c, new SafetensorsWeights(one), prompts), "f32 file == in-memory weights");
        assertArrayEquals(base, logits(c, new SafetensorsWeights(three), prompts), "3 shards == 1 file");
        float[] b16 = logits(c, new SafetensorsWeights(bf), prompts);
        double diff = 0, scale = 0;
        for (int i = 0; i < base.length; i++) {
            diff = Math.max(diff, Math.abs(base[i] - b16[i]));
            scale = Math.max(scale, Math.abs(base[i]));
        }
        assertTrue(diff > 0 && diff < 0.05 * Math.max(1, scale), "bf16 twin diff " + diff + " scale " + scale);
        Files.writeString(three.resolve("config.json"), c.toJson().toString());
        try (GraniteModel m = GraniteModel.load(three, Device.cpu(), DataType.FLOAT32)) {
            assertEquals(c.hiddenSize, m.config().hiddenSize);
        }
        Files.writeString(one.resolve("config.json"), c.toJson().put("hidden_size", 48).put("mamba_d_head", 24).toString());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> GraniteModel.load(one, Device.cpu(), DataType.FLOAT32));
        assertTrue(shape.getMessage().contains("model.embed_tokens.weight") && shape.getMessage().contains("shape"), shape.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SafetensorsWeights(one).get(null, "model.nope.weight", false));
        assertTrue(e.getMessage().contains("model.nope.weight"));
    }

    @Test
    void truncatedOrLyingFilesGiveClearErrors() throws IOException {
        GraniteConfig c = RandomWeights.tiny(false, false);
        Path good = Files.createDirectories(dir.resolve("good"));
        write(c, new FormulaWeights(c), good, 1, false);
        Path file = good.resolve("model-00001-of-00001.safetensors");
        byte[] all = Files.readAllBytes(file);

        Path trunc = Files.createDirectories(dir.resolve("trunc"));
        Files.write(trunc.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length - 100));
        java.io.UncheckedIOException t = assertThrows(java.io.UncheckedIOException.class, () -> new SafetensorsWeights(trunc));
        assertTrue(t.getMessage().contains("truncated") && t.getMessage().contains("model.safetensors"), t.getMessage());

        // a header that claims a bigger shape than its bytes
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        String lying = header.replaceFirst("\\\"shape\\\":\\[61,32\\]", "\\\"shape\\\":[62,32]");
        assertTrue(!lying.equals(header), "test setup: header rewritten");
        byte[] lh = lying.getBytes(StandardCharsets.UTF_8);
        Path liar = Files.createDirectories(dir.resolve("liar"));
        try (var os = Files.newOutputStream(liar.resolve("model.safetensors"))) {
            os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(lh.length).array());
            os.write(lh);
            os.write(all, 8 + (int) n, all.length - 8 - (int) n);
        }
        java.io.UncheckedIOException l = assertThrows(java.io.UncheckedIOException.class, () -> new SafetensorsWeights(liar));
        assertTrue(l.getMessage().contains("model.embed_tokens.weight") && l.getMessage().contains("needs"), l.getMessage());

        Path junk = Files.createDirectories(dir.resolve("junk"));
        Files.write(junk.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertThrows(java.io.UncheckedIOException.class, () -> new SafetensorsWeights(junk));
    }

    private static float[] logits(GraniteConfig c, WeightSource w, int[][] prompts) {
        try (GraniteModel m = GraniteModel.load(c, w, Device.cpu(), DataType.FLOAT32);
                NDManager step = NDManager.newBaseManager();
                ModelState st = m.emptyState(prompts.length)) {
            return m.prefill(step, prompts, st).toFloatArray();
        }
    }

    /** Writes the weights as safetensors shards (HF layout: model-0000i-of-0000n.safetensors). */
    static void write(GraniteConfig c, WeightSource w, Path out, int shards, boolean bf16) throws IOException {
        Map<String, long[]> shapes = SyntheticWeights.shapes(c);
        List<String> names = new ArrayList<>(shapes.keySet());
        ObjectMapper json = new ObjectMapper();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int s = 0; s < shards; s++) {
                ObjectNode header = json.createObjectNode();
                List<byte[]> blobs = new ArrayList<>();
                long off = 0;
                for (int i = s; i < names.size(); i += shards) {
                    String n = names.get(i);
                    NDArray a = w.get(m, n, true);
                    float[] f = a.toFloatArray();
                    ByteBuffer bb = ByteBuffer.allocate(f.length * (bf16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
                    for (float v : f) {
                        if (bf16) bb.putShort((short) (Float.floatToRawIntBits(RandomWeights.roundToBf16(new float[] {v})[0]) >>> 16));
                        else bb.putFloat(v);
                    }
                    ObjectNode t = header.putObject(n);
                    t.put("dtype", bf16 ? "BF16" : "F32");
                    var sh = t.putArray("shape");
                    for (long d : shapes.get(n)) sh.add(d);
                    t.putArray("data_offsets").add(off).add(off + bb.capacity());
                    off += bb.capacity();
                    blobs.add(bb.array());
                }
                byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
                Path f = out.resolve(String.format("model-%05d-of-%05d.safetensors", s + 1, shards));
                try (var os = Files.newOutputStream(f)) {
                    os.write(len.array());
                    os.write(h);
                    for (byte[] b : blobs) os.write(b);
                }
            }
        }
        assertEquals(shards, Files.list(out).count());
    }
}
