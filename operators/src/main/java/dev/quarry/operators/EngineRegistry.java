package dev.quarry.operators;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine per {@link EngineOptions#registryKey()} (model directory, device, dtype, batching options) per JVM, shared by
 * every subtask that asks for it and reference-counted: loaded by the first {@link #acquire}, closed when
 * the last {@link Lease} is closed, loaded again by a later acquire. Thread-safe; concurrent first acquires
 * of one key load the model once (the others wait for it), and loading one key never blocks another key.
 * Subtasks that ask for the same model with different batching options get separate engines (their options
 * can change results: sequence length, truncation, timeouts), i.e. a second copy of the weights; the
 * registry logs a warning when that happens, since it doubles the memory the model takes.
 *
 * <h2>Where this class must live in a cluster</h2>
 * The registry is a static of this class, so "one per JVM" means "one per class loader that loaded this
 * class". A JNI library (PyTorch's natives, loaded by DJL) can be loaded only once per JVM, so
 * <b>DJL (api, pytorch-engine, pytorch-jni, the native jar) must be on the TaskManager's parent classpath,
 * i.e. in Flink's {@code lib/}</b>, never inside a job jar, and so must quarry-engine and quarry-operators
 * (this class): then the registry is loaded once by the parent class loader and every job on the TaskManager
 * shares it (one engine per model, device and dtype, however many jobs and slots use it). If quarry-operators
 * is inside a job jar instead (Flink's child-first user class loader), the registry exists once per job:
 * subtasks of one job still share an engine, but each job loads its own. The build collects the parent-side
 * jars in {@code jobs/target/flink-lib/}. See docs/architecture.md, "Deploying on a Flink cluster".
 */
public final class EngineRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(EngineRegistry.class);
    private static final Map<String, Entry> ENGINES = new HashMap<>();

    private static final class Entry {
        final CompletableFuture<Engine> engine = new CompletableFuture<>();
        int refs;
    }

    private EngineRegistry() {}

    /**
     * The engine for {@code options}, opened with {@code factory} if no subtask holds it. Blocks while the
     * model loads; a caller waiting for another caller's load can be interrupted (it then holds nothing, and
     * gets an {@link IllegalStateException} with its interrupt status set). Close the lease (once) when done with
     * the engine.
     *
     * @throws RuntimeException whatever the factory threw when loading failed (the next acquire tries again)
     */
    public static Lease acquire(EngineOptions options, EngineFactory factory) {
        String key = options.registryKey();
        Entry e;
        boolean load;
        synchronized (ENGINES) {
            e = ENGINES.get(key);
            load = e == null;
            if (load) {
                String weights = options.weightsKey() + "|";
                for (String other : ENGINES.keySet()) {
                    if (other.startsWith(weights)) {
                        LOG.warn("Quarry engine registry: loading a second copy of {} because the batching options differ"
                                + " from those of an engine already loaded in this JVM: {} vs {}; give the jobs the same"
                                + " batching options to share one engine", options.weightsKey(), options.batching(),
                                other.substring(weights.length()));
                    }
                }
                e = new Entry();
                ENGINES.put(key, e);
            }
            e.refs++;
        }
        if (load) {
            LOG.info("Quarry engine registry: loading the engine for {} (registry class loader: {})", key,
                    EngineRegistry.class.getClassLoader());
            try {
                Engine engine = factory.open(options);
                if (engine == null) throw new IllegalStateException("engine factory returned null for " + options);
                e.engine.complete(engine);
            } catch (RuntimeException | Error ex) {
                synchronized (ENGINES) {
                    ENGINES.remove(key, e);
                }
                e.engine.completeExceptionally(ex);
                throw ex;
            }
        }
        try {
            // interruptible: a subtask cancelled while another one loads the model must not wait out the load
            // (Flink's task cancellation watchdog would kill the TaskManager after a long one)
            return new Lease(key, e, e.engine.get());
        } catch (InterruptedException ex) {
            release(key, e);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the engine for " + key + " to load", ex);
        } catch (ExecutionException ex) {
            Throwable c = ex.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new CompletionException(c);
        }
    }

    /** How many leases hold the engine of {@code registryKey} (0 when none is loaded). */
    public static int refCount(String registryKey) {
        synchronized (ENGINES) {
            Entry e = ENGINES.get(registryKey);
            return e == null ? 0 : e.refs;
        }
    }

    /** Number of engines currently held in this JVM (class loader). */
    public static int size() {
        synchronized (ENGINES) {
            return ENGINES.size();
        }
    }

    private static void release(String key, Entry e) {
        boolean close = false;
        synchronized (ENGINES) {
            if (ENGINES.get(key) == e) {
                e.refs--;
                if (e.refs <= 0) {
                    ENGINES.remove(key);
                    close = true;
                }
            }
        }
        if (close) {
            LOG.info("Quarry engine registry: closing the engine for {} (last subtask released it)", key);
            e.engine.join().close();
        }
    }

    /** A hold on a shared engine; {@link #close()} releases it (idempotent). */
    public static final class Lease implements AutoCloseable {
        private final String key;
        private final Entry entry;
        private final Engine engine;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Lease(String key, Entry entry, Engine engine) {
            this.key = key;
            this.entry = entry;
            this.engine = engine;
        }

        public Engine engine() { return engine; }

        public String registryKey() { return key; }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) release(key, entry);
        }
    }
}
