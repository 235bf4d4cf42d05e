package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quarry.engine.checkpoint.CheckpointMaker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each way a checkpoint directory can be wrong gives a clear error naming the file and/or tensor. */
class CheckpointLoadErrorsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    @TempDir Path tmp;

    private Path make(String name, int shards) throws Exception {
        Path d = tmp.resolve(name);
        CheckpointMaker.make("tiny-hybrid", 5, d, "f32", shards);
        return d;
    }

    private static void editConfig(Path dir, Consumer<ObjectNode> edit) throws Exception {
        Path cfg = dir.resolve("config.json");
        ObjectNode n = (ObjectNode) MAPPER.readTree(cfg.toFile());
        edit.accept(n);
        Files.writeString(cfg, MAPPER.writeValueAsString(n));
    }

    private static String loadError(Path dir) {
        Exception e = assertThrows(Exception.class, () -> GraniteModel.load(dir, Device.cpu(), DataType.FLOAT32).close());
        return e.getMessage();
    }

    @Test
    void missingConfigNamesTheFile() throws Exception {
        Path d = make("noconfig", 1);
        Files.delete(d.resolve("config.json"));
        String m = loadError(d);
        assertTrue(m.contains("config.json"), m);
    }

    @Test
    void unknownModelTypeIsRejected() throws Exception {
        Path d = make("mtype", 1);
        editConfig(d, n -> n.put("model_type", "llama"));
        String m = loadError(d);
        assertTrue(m.contains("model_type") && m.contains("llama") && m.contains("config.json"), m);
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path d = make("missing", 1);
        // layer 0 becomes attention: its self_attn tensors are not in the file
        editConfig(d, n -> {
            ArrayNode types = (ArrayNode) (n.has("layer_types") ? n.get("layer_types") : n.get("layers_block_type"));
            types.set(0, MAPPER.getNodeFactory().textNode("attention"));
        });
        String m = loadError(d);
        assertTrue(m.contains("missing tensor") && m.contains("model.layers.0.self_attn"), m);
    }

    @Test
    void wrongShapeIsNamed() throws Exception {
        Path d = make("shape", 1);
        editConfig(d, n -> n.put("shared_intermediate_size", n.get("shared_intermediate_size").asInt() * 2));
        String m = loadError(d);
        assertTrue(m.contains("shared_mlp") && m.contains("shape"), m);
    }

    @Test
    void missingShardIsNamed() throws Exception {
        Path d = make("shards", 3);
        Files.delete(d.resolve("model-00002-of-00003.safetensors"));
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("model-00002-of-00003.safetensors")
                && m.contains("missing"), m);
    }

    @Test
    void truncatedShardNamesTheFile() throws Exception {
        Path d = make("trunc", 1);
        Path f = d.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length / 2));
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors"), m);
    }

    @Test
    void hugeHeaderLengthGivesAnErrorNotAnOutOfMemory() throws Exception {
        Path d = make("huge", 1);
        Path f = d.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        java.nio.ByteBuffer.wrap(all).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE / 2);
        Files.write(f, all);
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors") && m.contains("header length"), m);
    }

    @Test
    void missingTokenizerJsonNamesTheFile() throws Exception {
        Path d = make("notok", 1);
        Files.delete(d.resolve("tokenizer.json"));
        Exception e = assertThrows(Exception.class,
                () -> dev.quarry.engine.internal.text.GraniteTextCodec.open(d.resolve("tokenizer.json")));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void extraTensorIsNamed() throws Exception {
        Path d = make("extra", 1);
        // one layer fewer in the config: the last layer's tensors are now unexpected
        editConfig(d, n -> {
            ArrayNode types = (ArrayNode) (n.has("layer_types") ? n.get("layer_types") : n.get("layers_block_type"));
            types.remove(types.size() - 1);
            n.put("num_hidden_layers", types.size());
        });
        String m = loadError(d);
        assertTrue(m.contains("unexpected tensor") && m.contains("model.layers.3.") && m.contains("model.safetensors"), m);
    }

    /** Replaces the safetensors header of {@code dir/model.safetensors} by {@code edit(header)}, keeping the data. */
    private static void editHeader(Path dir, java.util.function.UnaryOperator<String> edit) throws Exception {
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(f);
        int n = (int) java.nio.ByteBuffer.wrap(all).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] h = edit.apply(new String(all, 8, n, java.nio.charset.StandardCharsets.UTF_8))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] out = new byte[8 + h.length + all.length - 8 - n];
        java.nio.ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
        System.arraycopy(h, 0, out, 8, h.length);
        System.arraycopy(all, 8 + n, out, 8 + h.length, all.length - 8 - n);
        Files.write(f, out);
    }

    @Test
    void shapeWhoseByteCountOverflowsNamesTheFileAndTensor() throws Exception {
        Path d = make("overflow", 1);
        editHeader(d, h -> h.replaceFirst("\"model.norm.weight\":\\{\"dtype\":\"F32\",\"shape\":\\[",
                "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,"));
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors") && m.contains("model.norm.weight") && m.contains("shape"), m);
    }

    @Test
    void nonIntegerShapeOrOffsetsNameTheFileAndTensor() throws Exception {
        Path d = make("strshape", 1);
        editHeader(d, h -> h.replaceFirst("\"model.norm.weight\":\\{\"dtype\":\"F32\",\"shape\":\\[",
                "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[\"1\","));
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors") && m.contains("model.norm.weight") && m.contains("integer dimensions"), m);
        Path d2 = make("stroffsets", 1);
        editHeader(d2, h -> h.replaceFirst("\"data_offsets\":\\[81920,", "\"data_offsets\":[81920.5,"));
        m = loadError(d2);
        assertTrue(m.contains("model.safetensors") && m.contains("model.norm.weight") && m.contains("data_offsets"), m);
    }

    @Test
    void headerThatIsNotAnObjectNamesTheFile() throws Exception {
        Path d = make("arrayheader", 1);
        editHeader(d, h -> "[1, 2]");
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors") && m.contains("not a JSON object"), m);
    }

    @Test
    void malformedShardIndexNamesTheIndex() throws Exception {
        Path d = make("badindex", 2);
        Files.writeString(d.resolve("model.safetensors.index.json"), "{\"weight_map\": {");
        String m = loadError(d);
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("not valid JSON"), m);
    }

    /** 2^32 + 320 read as an int is 320, the real row count: it must not load as if the config said 320. */
    @Test
    void integerFieldBeyondIntRangeIsAnErrorNotWrappedAround() throws Exception {
        Path d = make("bigvocab", 1);
        editConfig(d, n -> n.put("vocab_size", (1L << 32) + n.get("vocab_size").asLong()));
        String m = loadError(d);
        assertTrue(m.contains("config.json") && m.contains("vocab_size") && m.contains("out of range"), m);
    }

    /** A malformed time_step_limit (the dt clamp) is an error, not silently replaced by the default (0, inf). */
    @Test
    void malformedTimeStepLimitIsNamed() throws Exception {
        Path d = make("tsl", 1);
        editConfig(d, n -> n.putArray("time_step_limit").add(0.0));
        String m = loadError(d);
        assertTrue(m.contains("config.json") && m.contains("time_step_limit"), m);
    }
}
