package dev.quarry.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.internal.text.GraniteTextCodec;
import dev.quarry.engine.model.GraniteConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointMakerTest {
    @TempDir
    Path dir;

    @Test
    void tinyCheckpointHasConfigTokenizerAndDeterministicWeights() throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        CheckpointMaker.make("tiny-hybrid", 3, a, "f32", 1);
        CheckpointMaker.make("tiny-hybrid", 3, b, "f32", 1);
        assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
        GraniteConfig c = GraniteConfig.load(a.resolve("config.json"));
        assertEquals(Presets.TINY_VOCAB_ROWS, c.vocabSize);
        try (GraniteTextCodec codec = GraniteTextCodec.open(a.resolve("tokenizer.json"))) {
            assertEquals(257, codec.eosTokenId());
            assertEquals(Presets.TINY_TOKENIZER_SIZE, codec.decodableVocabSize());
            assertTrue(codec.decodableVocabSize() < c.vocabSize, "embedding padded past the tokenizer");
            int[] ids = codec.encode("héllo<|end_of_text|>");
            assertEquals(257, ids[ids.length - 1]);
            assertEquals("héllo", codec.decode(ids));
        }
        for (String f : new String[] {"tokenizer_config.json", "generation_config.json"}) assertTrue(Files.exists(a.resolve(f)));
        CheckpointMaker.make("tiny-moe", 3, dir.resolve("sharded"), "bf16", 3);
        assertTrue(Files.exists(dir.resolve("sharded").resolve("model.safetensors.index.json")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Presets.config("huge"));
        assertTrue(e.getMessage().contains("tiny-hybrid"));
        long params = dev.quarry.engine.internal.model.SyntheticWeights.shapes(Presets.config("granite-4.0-h-350m"))
                .values().stream().mapToLong(s -> { long n = 1; for (long d : s) n *= d; return n; }).sum();
        assertTrue(params > 330_000_000L && params < 350_000_000L, "h-350m parameters: " + params);
    }

    /**
     * Writing a checkpoint over an earlier one in the same directory leaves none of the earlier weight files: a
     * stale model.safetensors.index.json from a sharded run made the loader read the old shards (old weights)
     * instead of the new model.safetensors.
     */
    @Test
    void rewritingADirectoryLeavesNoStaleWeightFiles() throws Exception {
        Path d = dir.resolve("reused"), fresh = dir.resolve("fresh");
        CheckpointMaker.make("tiny-hybrid", 3, d, "f32", 3);
        CheckpointMaker.make("tiny-hybrid", 4, d, "f32", 1);
        CheckpointMaker.make("tiny-hybrid", 4, fresh, "f32", 1);
        try (var files = Files.list(d)) {
            assertEquals(java.util.List.of("model.safetensors"), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.contains("safetensors")).sorted().toList());
        }
        dev.quarry.engine.SamplingParams sp = dev.quarry.engine.SamplingParams.builder().maxNewTokens(2).build();
        try (var a = dev.quarry.engine.Engine.open(dev.quarry.engine.EngineOptions.builder().modelDir(d).build());
                var b = dev.quarry.engine.Engine.open(dev.quarry.engine.EngineOptions.builder().modelDir(fresh).build())) {
            var req = new dev.quarry.engine.GenerationRequest("r", new int[] {5, 6, 7}, sp, true);
            assertArrayEquals(b.generate(req).get().logitsLast(), a.generate(req).get().logitsLast(), "the new weights are loaded");
        }
    }
}
