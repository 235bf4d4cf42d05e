package dev.quarry.engine.internal.sched;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.engine.ModelInfo;
import dev.quarry.engine.internal.GraniteEngine;

/**
 * The real continuous-batching engine ({@link GraniteEngine} + scheduler, DJL NDArrays) over the
 * engine tests' toy model and character-level codec, for job tests that should go through the real
 * scheduler and tasks while no Granite checkpoint is available. Lives in the scheduler's package to
 * reach its package-private toy classes (they come from the engine's test jar).
 */
public final class ToyEngines {
    public static final ModelInfo INFO = new ModelInfo("toy-granite", "/toy", "toy-weights-hash", "cpu", "f32", 0, 512);

    private ToyEngines() {}

    public static Engine open(EngineOptions options) {
        System.setProperty("ai.djl.offline", "true");
        return new GraniteEngine(new ToyModel(7, 0), new ToyCodec(), INFO, options.batching());
    }
}
