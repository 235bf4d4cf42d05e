package dev.quarry.engine.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.engine.internal.model.SyntheticWeights;
import dev.quarry.engine.model.GraniteConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face layout checkpoint with deterministic random weights for (preset, seed): config.json,
 * safetensors (f32 or bf16, optionally sharded with model.safetensors.index.json), a byte-level BPE
 * tokenizer.json with Granite's 28 special tokens, tokenizer_config.json (with the Granite 4.0 jinja
 * {@code chat_template}) and generation_config.json.
 */
public final class CheckpointMaker {
    public static final String DTYPE_F32 = "f32";
    public static final String DTYPE_BF16 = "bf16";
    /** Std of the random linear and embedding weights of real-shape presets (transformers' initializer_range). */
    public static final double INIT_STD = 0.02;
    /** Std for tiny presets: larger, so tiny models have clearly separated logits (meaningful goldens). */
    public static final double TINY_INIT_STD = 0.25;
    private static final int CHUNK = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Granite 4.0 added tokens in id order (spec §2.1) and whether each is flagged special. */
    static final String[] SPECIAL = {"<|pad|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
        "<|fim_pad|>", "<|filename|>", "<|reponame|>", "<|start_of_role|>", "<|end_of_role|>", "<|unused_1|>",
        "<|start_of_plugin|>", "<|end_of_plugin|>", "<|unk|>", "<tool_call>", "</tool_call>", "<tool_response>",
        "</tool_response>", "<think>", "</think>", "<think_on>", "<think_off>", "<schema>", "</schema>", "<tools>",
        "</tools>", "<documents>", "</documents>"};

    private CheckpointMaker() {}

    /** Classpath resource of the Granite 4.0 chat template (jinja, spec §2.2) written into tokenizer_config.json. */
    public static final String CHAT_TEMPLATE_RESOURCE = "granite-chat-template.jinja";

    /** The jinja chat template that {@code GraniteTextCodec} renders natively (spec §2.2). */
    public static String chatTemplate() throws IOException {
        try (InputStream in = CheckpointMaker.class.getResourceAsStream(CHAT_TEMPLATE_RESOURCE)) {
            if (in == null) throw new IOException("missing classpath resource " + CHAT_TEMPLATE_RESOURCE);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static boolean isSpecial(int i) {
        return i <= 1 || (i >= 8 && i <= 13) || i >= 20;
    }

    /** Writes the checkpoint of {@code preset} into {@code out} (created if needed). */
    public static void make(String preset, long seed, Path out, String dtype, Integer shardCount) throws IOException {
        String dt = dtype == null ? DTYPE_F32 : dtype;
        if (!dt.equals(DTYPE_F32) && !dt.equals(DTYPE_BF16)) {
            throw new IllegalArgumentException("dtype must be f32 or bf16, got '" + dtype + "'");
        }
        int shards = shardCount == null ? 1 : shardCount;
        if (shards < 1) throw new IllegalArgumentException("shard count must be >= 1, got " + shards);
        GraniteConfig c = Presets.config(preset);
        Files.createDirectories(out);
        removeOwnWeightFiles(out);
        Files.writeString(out.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c.toJson()));
        int base = c.padTokenId;
        writeTokenizer(out, base, Presets.isTiny(preset));
        ObjectNode tc = JSON.createObjectNode();
        tc.put("add_bos_token", false);
        tc.put("bos_token", "<|end_of_text|>");
        tc.put("eos_token", "<|end_of_text|>");
        tc.put("pad_token", "<|pad|>");
        tc.put("unk_token", "<|unk|>");
        tc.put("model_max_length", c.maxPositionEmbeddings);
        tc.put("tokenizer_class", "GPT2Tokenizer");
        tc.put("chat_template", chatTemplate());
        Files.writeString(out.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tc));
        ObjectNode gc = JSON.createObjectNode();
        gc.put("bos_token_id", c.bosTokenId);
        gc.put("eos_token_id", c.eosTokenId);
        gc.put("pad_token_id", c.padTokenId);
        Files.writeString(out.resolve("generation_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(gc));
        writeWeights(c, seed, out, dt.equals(DTYPE_BF16), shards, Presets.isTiny(preset) ? TINY_INIT_STD : INIT_STD);
    }

    /**
     * Deletes the weight files an earlier run may have left in {@code out} (model.safetensors, model-NNNNN-of-NNNNN
     * shards and model.safetensors.index.json, the names this class writes): a stale index from a sharded run
     * would make loaders read the old shards instead of the new model.safetensors, and stale shards would be read
     * (or hashed) beside the new ones.
     */
    private static void removeOwnWeightFiles(Path out) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(out)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (n.equals("model.safetensors") || n.equals("model.safetensors.index.json")
                        || n.matches("model-\\d{5}-of-\\d{5}\\.safetensors")) {
                    Files.delete(f);
                }
            }
        }
    }

    private static void writeWeights(GraniteConfig c, long seed, Path out, boolean bf16, int shards, double std)
            throws IOException {
        Map<String, long[]> shapes = SyntheticWeights.shapes(c);
        List<String> names = new ArrayList<>(shapes.keySet());
        int bytesPer = bf16 ? 2 : 4;
        ObjectNode weightMap = JSON.createObjectNode();
        long total = 0;
        for (int s = 0; s < shards; s++) {
            String file = shards == 1 ? "model.safetensors"
                    : String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            ObjectNode header = JSON.createObjectNode();
            List<String> mine = new ArrayList<>();
            long off = 0;
            for (int i = s; i < names.size(); i += shards) {
                String n = names.get(i);
                long count = count(shapes.get(n));
                ObjectNode t = header.putObject(n);
                t.put("dtype", bf16 ? "BF16" : "F32");
                ArrayNode sh = t.putArray("shape");
                for (long d : shapes.get(n)) sh.add(d);
                t.putArray("data_offsets").add(off).add(off + count * bytesPer);
                off += count * bytesPer;
                mine.add(n);
                weightMap.put(n, file);
            }
            total += off;
            byte[] h = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(out.resolve(file), StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
                len.flip();
                ch.write(len);
                ch.write(ByteBuffer.wrap(h));
                ByteBuffer buf = ByteBuffer.allocate(CHUNK * bytesPer).order(ByteOrder.LITTLE_ENDIAN);
                for (String n : mine) writeTensor(ch, buf, n, count(shapes.get(n)), seed, bf16, std);
            }
        }
        if (shards > 1) {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            index.set("weight_map", weightMap);
            Files.writeString(out.resolve("model.safetensors.index.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
        }
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Deterministic values per (seed, tensor name), streamed in chunks. */
    private static void writeTensor(FileChannel ch, ByteBuffer buf, String name, long count, long seed, boolean bf16,
            double std) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        long done = 0;
        while (done < count) {
            buf.clear();
            int n = (int) Math.min(CHUNK, count - done);
            for (int i = 0; i < n; i++) {
                float v = value(name, rnd, std);
                if (bf16) {
                    int bits = Float.floatToRawIntBits(v);
                    bits += 0x7FFF + ((bits >>> 16) & 1);
                    buf.putShort((short) (bits >>> 16));
                } else {
                    buf.putFloat(v);
                }
            }
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
            done += n;
        }
    }

    private static float value(String name, SplittableRandom rnd, double std) {
        if (name.endsWith("norm.weight") || name.endsWith(".D")) return 1f;
        if (name.endsWith("A_log")) return (float) Math.log(1 + 15 * rnd.nextDouble());
        if (name.endsWith("dt_bias")) {
            double dt = Math.exp(Math.log(0.001) + rnd.nextDouble() * (Math.log(0.1) - Math.log(0.001)));
            return (float) (dt + Math.log(-Math.expm1(-dt))); // inverse softplus
        }
        if (name.endsWith("conv1d.bias")) return 0f;
        return (float) (std * gaussian(rnd));
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** GPT-2 byte-to-unicode table: the token text of each byte. */
    static String[] byteTokens() {
        List<Integer> bs = new ArrayList<>();
        for (int b = 33; b <= 126; b++) bs.add(b);
        for (int b = 161; b <= 172; b++) bs.add(b);
        for (int b = 174; b <= 255; b++) bs.add(b);
        String[] tok = new String[256];
        for (int b : bs) tok[b] = new String(Character.toChars(b));
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (tok[b] == null) tok[b] = new String(Character.toChars(256 + n++));
        }
        return tok;
    }

    /** Byte-level BPE (no merges): ids 0..255 are bytes, then placeholders up to {@code base}, then the specials. */
    private static void writeTokenizer(Path out, int base, boolean tiny) throws IOException {
        ObjectNode t = JSON.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        for (int i = 0; i < SPECIAL.length; i++) {
            ObjectNode a = added.addObject();
            a.put("id", base + i);
            a.put("content", SPECIAL[i]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", isSpecial(i));
        }
        t.putNull("normalizer");
        ObjectNode pre = t.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        t.putNull("post_processor");
        ObjectNode dec = t.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = t.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        String[] bytes = byteTokens();
        for (int b = 0; b < 256; b++) vocab.put(bytes[b], b);
        for (int id = 256; id < base; id++) vocab.put("<|reserved_" + id + "|>", id);
        for (int i = 0; i < SPECIAL.length; i++) vocab.put(SPECIAL[i], base + i);
        model.putArray("merges");
        Files.writeString(out.resolve("tokenizer.json"), JSON.writeValueAsString(t));
    }
}
