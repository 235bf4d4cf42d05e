package dev.quarry.engine.internal;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;

/** The DJL-backed engine. (Placeholder until the scheduler lands.) */
public final class GraniteEngine {
    private GraniteEngine() {}

    public static Engine open(EngineOptions options) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
