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
}
