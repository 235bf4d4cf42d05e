package dev.quarry.engine.internal.model;

import dev.quarry.engine.model.GraniteConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes tiny checkpoints (config.json + safetensors, closed-form weights) for tests in other modules. */
public final class TinyCheckpoints {
    private TinyCheckpoints() {}

    /** A tiny hybrid (mamba + attention, MoE, RoPE, ng=2) checkpoint in {@code dir}; returns its config. */
    public static GraniteConfig writeHybrid(Path dir, int shards) throws IOException {
        GraniteConfig c = RandomWeights.tiny(true, true);
        Files.createDirectories(dir);
        SafetensorsWeightsTest.write(c, new FormulaWeights(c), dir, shards, false);
        Files.writeString(dir.resolve("config.json"), c.toJson().toString());
        return c;
    }
}
