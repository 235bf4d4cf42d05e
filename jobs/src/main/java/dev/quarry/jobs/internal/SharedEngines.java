package dev.quarry.jobs.internal;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import dev.quarry.jobs.EngineFactory;
import java.util.HashMap;
import java.util.Map;

/** One engine per {@link EngineOptions#registryKey()} per JVM, reference-counted across subtasks. */
public final class SharedEngines {
    private static final Map<String, Entry> ENGINES = new HashMap<>();

    private record Entry(Engine engine, int refs) {}

    private SharedEngines() {}

    public static synchronized Engine acquire(EngineOptions options, EngineFactory factory) {
        String key = options.registryKey();
        Entry e = ENGINES.get(key);
        if (e == null) e = new Entry(factory.open(options), 0);
        ENGINES.put(key, new Entry(e.engine(), e.refs() + 1));
        return e.engine();
    }

    public static synchronized void release(EngineOptions options) {
        String key = options.registryKey();
        Entry e = ENGINES.get(key);
        if (e == null) return;
        if (e.refs() <= 1) {
            ENGINES.remove(key);
            e.engine().close();
        } else {
            ENGINES.put(key, new Entry(e.engine(), e.refs() - 1));
        }
    }
}
