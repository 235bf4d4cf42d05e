package dev.quarry.engine.internal.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.BatchingOptions;
import dev.quarry.engine.GenerationRequest;
import dev.quarry.engine.GenerationResult;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.GraniteEngine;
import dev.quarry.engine.internal.decode.Sampler;
import dev.quarry.engine.internal.model.FormulaWeights;
import dev.quarry.engine.internal.model.Generator;
import dev.quarry.engine.internal.model.GraniteModel;
import dev.quarry.engine.internal.model.RandomWeights;
import dev.quarry.engine.model.GraniteConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The continuous-batching scheduler over the real Granite model (tiny hybrid: mamba + attention, MoE,
 * RoPE, ng=2): greedy results of concurrently submitted ragged prompts equal the static Generator's
 * results for each prompt alone.
 */
class GraniteStepModelTest {
    @Test
    void schedulerOverRealModelMatchesStaticGeneration() throws Exception {
        GraniteConfig c = withVocab(RandomWeights.tiny(true, true), 140);
        GraniteModel model = GraniteModel.load(c, new FormulaWeights(c), Device.cpu(), DataType.FLOAT32);
        Random r = new Random(5);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int[] p = new int[1 + r.nextInt(20)];
            for (int j = 0; j < p.length; j++) p[j] = r.nextInt(128);
            prompts.add(p);
        }
        SamplingParams greedy = SamplingParams.builder().maxNewTokens(6).ignoreEos(true).build();
        Generator g = new Generator(model, new Sampler(ToyCodec.DECODABLE), ToyCodec.EOS);
        List<int[]> want = new ArrayList<>();
        for (int[] p : prompts) want.add(g.generate(List.of(p), List.of(greedy), false, null).get(0).ids);

        ModelInfo info = new ModelInfo("tiny", "/tiny", "0", "cpu", "f32", 0, 512);
        try (GraniteEngine e = new GraniteEngine(new GraniteStepModel(model), new ToyCodec(), info,
                BatchingOptions.builder().build())) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                fs.add(e.generate(new GenerationRequest("r" + i, prompts.get(i), greedy, false)));
            }
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult res = fs.get(i).get(120, TimeUnit.SECONDS);
                assertNull(res.error(), "request " + i);
                assertArrayEquals(want.get(i), res.ids(), "request " + i + " (prompt of " + prompts.get(i).length + ")");
            }
        }
    }

    private static GraniteConfig withVocab(GraniteConfig c, int v) {
        GraniteConfig.Builder b = c.toBuilder();
        b.vocabSize = v;
        return b.build().validate();
    }
}
