package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.checkpoint.CheckpointMaker;
import dev.quarry.engine.internal.decode.Sampler;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Goldens on checkpoints written by {@link CheckpointMaker} (= {@code quarry make-checkpoint}), regenerated
 * here in-process (deterministic) and compared with transformers' outputs on the same files
 * (make_goldens.py --java-cp): f32 logits within 1e-4 relative and greedy ids identical; bf16 (transformers
 * computes in bf16, Quarry its linears in bf16 and the rest in fp32) within 5 % and the same next token.
 */
class MakerGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"maker-tiny-hybrid-f32", "maker-tiny-moe-f32", "maker-tiny-dense-f32", "maker-tiny-rope-f32",
        "maker-tiny-hybrid-bf16"})
    void quarryMatchesTransformersOnMakerCheckpoints(String name) throws Exception {
        JsonNode doc;
        try (InputStream in = MakerGoldenTest.class.getResourceAsStream("/goldens/" + name + ".json")) {
            doc = JSON.readTree(in);
        }
        boolean bf16 = doc.get("dtype").asText().equals("bf16");
        CheckpointMaker.make(doc.get("preset").asText(), doc.get("seed").asLong(), dir, doc.get("dtype").asText(),
                doc.get("shards").asInt());
        try (GraniteModel model = GraniteModel.load(dir, Device.cpu(), bf16 ? DataType.BFLOAT16 : DataType.FLOAT32);
                NDManager root = NDManager.newBaseManager()) {
            SamplingParams greedy = SamplingParams.builder().maxNewTokens(8).ignoreEos(true).build();
            Generator g = new Generator(model, new Sampler(model.config().vocabSize), model.config().eosTokenId);
            for (JsonNode p : doc.get("prompts")) {
                int[] ids = JSON.convertValue(p.get("prompt"), int[].class);
                float[] want = JSON.convertValue(p.get("logits_last"), float[].class);
                float[] got = Logits.prefillAlone(model, root, ids);
                Logits.assertClose(want, got, bf16 ? 0.05 : 1e-4, name + " prompt of " + ids.length);
                assertEquals(p.get("argmax").asInt(), Logits.argmax(got), name + " next token");
                if (!bf16) {
                    int[] gen = g.generate(List.of(ids), List.of(greedy), false, null).get(0).ids;
                    assertArrayEquals(JSON.convertValue(p.get("greedy"), int[].class), gen, name + " greedy");
                }
            }
        }
    }
}
