package dev.quarry.operators;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import java.io.Serializable;

/**
 * How a TaskManager opens an engine. Serializable, because it travels with the job graph to every
 * TaskManager. The default ({@link #real()}) is {@link Engine#open}; tests plug in a fake engine here.
 *
 * <p>The factory is called by {@link EngineRegistry} at most once per {@link EngineOptions#registryKey()}
 * and JVM at a time, on the first subtask that needs that engine.
 */
@FunctionalInterface
public interface EngineFactory extends Serializable {
    /** Opens (loads) an engine; may take seconds. Throws a clear exception when the model cannot be loaded. */
    Engine open(EngineOptions options);

    /** The real DJL engine: {@link Engine#open(EngineOptions)}. */
    static EngineFactory real() {
        return Engine::open;
    }
}
