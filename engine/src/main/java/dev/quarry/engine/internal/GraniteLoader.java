package dev.quarry.engine.internal;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;

/** Loads checkpoint, model and codec for {@link GraniteEngine#open}. */
final class GraniteLoader {
    private GraniteLoader() {}

    static Engine open(EngineOptions options) {
        throw new UnsupportedOperationException("the Granite model is not wired in yet");
    }
}
