package dev.quarry.jobs;

import dev.quarry.engine.internal.sched.ToyEngines;

/** {@link EngineFactory} for the real scheduler on the toy model (see {@link ToyEngines}). */
final class SchedulerEngine {
    private SchedulerEngine() {}

    static EngineFactory factory() {
        return ToyEngines::open;
    }
}
