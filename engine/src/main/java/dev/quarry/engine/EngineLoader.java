package dev.quarry.engine;

/** Resolves {@link Engine#open} to the DJL implementation. */
final class EngineLoader {
    private EngineLoader() {}

    static Engine open(EngineOptions options) {
        return dev.quarry.engine.internal.GraniteEngine.open(options);
    }
}
