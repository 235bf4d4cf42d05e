package dev.quarry.engine.internal.model;

import dev.quarry.engine.model.GraniteConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes tiny checkpoints (config.json + safetensors, closed-form weights) for tests in other modules. */
public final class TinyCheckpoints {
    private TinyCheckpoints() {}

    /** Ids the bundled tiny tokenizer defines (the embedding has a few more rows, like real Granite). */
    public static final int TOKENIZER_SIZE = 308;
    public static final int VOCAB_ROWS = 320;

    /**
     * A tiny hybrid (mamba + attention, MoE, RoPE, ng=2) checkpoint in {@code dir} with the bundled tiny
     * byte-level BPE tokenizer.json; returns its config.
     */
    public static GraniteConfig writeHybrid(Path dir, int shards) throws IOException {
        GraniteConfig.Builder b = RandomWeights.tiny(true, true).toBuilder();
        b.vocabSize = VOCAB_ROWS;
        b.eosTokenId = 301;
        b.bosTokenId = 301;
        b.padTokenId = 300;
        GraniteConfig c = b.build().validate();
        Files.createDirectories(dir);
        SafetensorsWeightsTest.write(c, new FormulaWeights(c), dir, shards, false);
        Files.writeString(dir.resolve("config.json"), c.toJson().toString());
        try (var in = TinyCheckpoints.class.getResourceAsStream("/tokenizer-tiny/tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        return c;
    }
}
