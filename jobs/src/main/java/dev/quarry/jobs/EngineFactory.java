package dev.quarry.jobs;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import java.io.Serializable;

/** How a task manager opens an engine; tests substitute a fake. */
@FunctionalInterface
public interface EngineFactory extends Serializable {
    Engine open(EngineOptions options);

    /** The real DJL engine. */
    static EngineFactory real() {
        return Engine::open;
    }
}
