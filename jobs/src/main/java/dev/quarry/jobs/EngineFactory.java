package dev.quarry.jobs;

import dev.quarry.engine.Engine;

/**
 * How a task manager opens an engine; tests substitute a fake. The jobs' name for the operators'
 * {@link dev.quarry.operators.EngineFactory} seam (engines are shared through its
 * {@link dev.quarry.operators.EngineRegistry}).
 */
@FunctionalInterface
public interface EngineFactory extends dev.quarry.operators.EngineFactory {
    /** The real DJL engine. */
    static EngineFactory real() {
        return Engine::open;
    }
}
