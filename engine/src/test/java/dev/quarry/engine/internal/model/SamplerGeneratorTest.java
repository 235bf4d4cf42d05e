package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.decode.Sampler;
import dev.quarry.engine.model.GraniteConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerGeneratorTest {

    @Test
    void samplerMasksUndecodableIdsAndHonoursTopK() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            // the largest logit sits at an undecodable id (9); decodable size 8
            NDArray logits = m.create(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 0, 100, 0, 1, 2, 3, 4, 5, 6, 7, 0, 100}, new Shape(2, 10));
            Sampler s = new Sampler(8);
            assertArrayEquals(new int[] {7, 7}, s.greedy(logits));
            SamplingParams hot = SamplingParams.builder().temperature(5f).topK(2).seed(3).build();
            for (int step = 0; step < 30; step++) {
                int[] ids = s.sample(logits, List.of(hot, SamplingParams.greedy()), new int[] {step, step}, null);
                assertTrue(ids[0] == 6 || ids[0] == 7, "top-2 only, got " + ids[0]);
                assertEquals(7, ids[1]);
            }
            // top-p tiny keeps only the best token
            SamplingParams p = SamplingParams.builder().temperature(1f).topP(0.01f).seed(4).build();
            assertEquals(7, s.sample(logits, List.of(p, p), new int[] {0, 0}, null)[0]);
            // allowed mask
            NDArray allowed = m.create(new boolean[] {true, false, true, false, false, false, false, false, false, true,
                    true, true, true, true, true, true, true, true, true, true}, new Shape(2, 10));
            assertArrayEquals(new int[] {2, 7}, s.sample(logits, List.of(SamplingParams.greedy(), SamplingParams.greedy()),
                    new int[] {0, 0}, allowed));
        }
    }

    @Test
    void sampledRowDoesNotDependOnBatchMates() {
        GraniteConfig c = RandomWeights.tiny(false, true);
        try (GraniteModel model = GraniteModel.load(c, new RandomWeights(c, 11, DataType.FLOAT32), Device.cpu(), DataType.FLOAT32)) {
            Generator g = new Generator(model, new Sampler(58), 0);
            SamplingParams p = SamplingParams.builder().temperature(1.5f).topP(0.95f).topK(20).seed(42)
                    .maxNewTokens(10).ignoreEos(true).build();
            int[] prompt = {3, 4, 5, 6};
            int[] alone = g.generate(List.of(prompt), List.of(p), false, null).get(0).ids;
            List<Generator.Output> batch = g.generate(List.of(new int[] {9, 9, 9, 9, 9, 9, 1}, prompt),
                    List.of(p.toBuilder().seed(7).build(), p), true, null);
            assertArrayEquals(alone, batch.get(1).ids);
            assertEquals(10, alone.length);
            assertEquals(FinishReason.LENGTH, batch.get(1).finish);
            assertEquals(61, batch.get(1).lastLogits.length);
            for (int id : alone) assertTrue(id < 58, "undecodable id " + id);
            // a different seed gives a different continuation (overwhelmingly likely with 10 hot tokens)
            int[] other = g.generate(List.of(prompt), List.of(p.toBuilder().seed(43).build()), false, null).get(0).ids;
            assertNotEquals(java.util.Arrays.toString(alone), java.util.Arrays.toString(other));
            // greedy stops at eos when not ignored: make eos the greedy first token
            int first = g.generate(List.of(prompt), List.of(SamplingParams.greedy()), false, null).get(0).ids[0];
            Generator stopAt = new Generator(model, new Sampler(58), first);
            Generator.Output o = stopAt.generate(List.of(prompt), List.of(SamplingParams.greedy()), false, null).get(0);
            assertArrayEquals(new int[] {first}, o.ids);
            assertEquals(FinishReason.EOS, o.finish);
        }
    }
}
