package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.Engine;
import dev.quarry.engine.EngineOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class EngineRegistryTest {
    static final EngineOptions A = EngineOptions.builder().modelDir(Path.of("/models/a")).build();
    static final EngineOptions B = EngineOptions.builder().modelDir(Path.of("/models/b")).build();

    @BeforeEach
    void reset() {
        FakeEngine.reset();
    }

    @Test
    void differentBatchingOptionsGetTheirOwnEngine() {
        EngineFactory f = FakeEngine.factory(0);
        EngineOptions truncating = EngineOptions.builder().modelDir(Path.of("/models/a"))
                .batching(dev.quarry.engine.BatchingOptions.builder().truncateInput(true).build()).build();
        EngineOptions sameAsA = EngineOptions.builder().modelDir(Path.of("/models/a/../a"))
                .batching(dev.quarry.engine.BatchingOptions.builder().build()).build();
        try (EngineRegistry.Lease a = EngineRegistry.acquire(A, f);
                EngineRegistry.Lease t = EngineRegistry.acquire(truncating, f);
                EngineRegistry.Lease s = EngineRegistry.acquire(sameAsA, f)) {
            assertNotSame(a.engine(), t.engine(), "a job asking for truncation must not get an engine that fails long inputs");
            assertSame(a.engine(), s.engine(), "equal options (and the same directory) share one engine");
            assertEquals(2, FakeEngine.OPENS.get());
        }
        assertEquals(0, EngineRegistry.size());
    }

    @Test
    void sharedAndRefCountedAndReopened() {
        EngineFactory f = FakeEngine.factory(0);
        EngineRegistry.Lease l1 = EngineRegistry.acquire(A, f);
        EngineRegistry.Lease l2 = EngineRegistry.acquire(A, f);
        assertSame(l1.engine(), l2.engine(), "two subtasks share one engine");
        assertEquals(1, FakeEngine.OPENS.get());
        assertEquals(2, EngineRegistry.refCount(A.registryKey()));

        EngineRegistry.Lease other = EngineRegistry.acquire(B, f);
        assertNotSame(l1.engine(), other.engine(), "another model gets its own engine");
        assertEquals(2, FakeEngine.OPENS.get());

        l1.close();
        l1.close(); // idempotent: does not release twice
        assertEquals(1, EngineRegistry.refCount(A.registryKey()));
        assertEquals(0, FakeEngine.CLOSES.get(), "still held by the second subtask");
        l2.close();
        assertEquals(0, EngineRegistry.refCount(A.registryKey()));
        assertEquals(1, FakeEngine.CLOSES.get(), "closed when the last subtask released it");

        EngineRegistry.Lease again = EngineRegistry.acquire(A, f);
        assertNotSame(l2.engine(), again.engine(), "reopened after the last release");
        assertEquals(3, FakeEngine.OPENS.get());
        again.close();
        other.close();
        assertEquals(3, FakeEngine.CLOSES.get());
        assertEquals(0, EngineRegistry.size());
    }

    @Test
    void concurrentFirstAcquiresLoadOnce() throws Exception {
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch loading = new CountDownLatch(1);
        EngineFactory slow = o -> {
            loads.incrementAndGet();
            try {
                loading.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return new FakeEngine(o, new FakeEngine.Config(0, 0));
        };
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<EngineRegistry.Lease>> leases = new ArrayList<>();
            for (int i = 0; i < 4; i++) leases.add(pool.submit(() -> EngineRegistry.acquire(A, slow)));
            while (EngineRegistry.refCount(A.registryKey()) < 4) Thread.sleep(5);
            loading.countDown();
            Engine first = leases.get(0).get().engine();
            for (Future<EngineRegistry.Lease> l : leases) assertSame(first, l.get().engine());
            assertEquals(1, loads.get(), "one load for four concurrent subtasks");
            for (Future<EngineRegistry.Lease> l : leases) l.get().close();
            assertEquals(1, FakeEngine.CLOSES.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void failedLoadIsReportedAndRetried() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EngineRegistry.acquire(A, o -> { throw new IllegalStateException("no config.json in " + o.modelDir()); }));
        assertTrue(e.getMessage().contains("/models/a"));
        assertEquals(0, EngineRegistry.refCount(A.registryKey()), "a failed load holds nothing");
        try (EngineRegistry.Lease l = EngineRegistry.acquire(A, FakeEngine.factory(0))) {
            assertEquals(1, FakeEngine.OPENS.get(), "the next acquire loads again");
        }
        assertEquals(0, EngineRegistry.size());
    }

    @Test
    void aSubtaskWaitingForAnotherOnesLoadCanBeCancelled() throws Exception {
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finishLoad = new CountDownLatch(1);
        EngineFactory slow = o -> {
            loading.countDown();
            try {
                finishLoad.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return FakeEngine.factory(0).open(o);
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<EngineRegistry.Lease> loader = pool.submit(() -> EngineRegistry.acquire(A, slow));
            loading.await();
            Thread[] waiter = new Thread[1];
            Future<Throwable> waited = pool.submit(() -> {
                waiter[0] = Thread.currentThread();
                try {
                    EngineRegistry.acquire(A, slow).close();
                    return null;
                } catch (IllegalStateException e) {
                    return Thread.currentThread().isInterrupted() ? e : new AssertionError("interrupt status lost", e);
                }
            });
            while (EngineRegistry.refCount(A.registryKey()) < 2) Thread.onSpinWait(); // the waiter holds a reference
            waiter[0].interrupt(); // Flink cancels the waiting subtask
            Throwable t = waited.get();
            assertTrue(t instanceof IllegalStateException && t.getMessage().contains("interrupted"), String.valueOf(t));
            assertEquals(1, EngineRegistry.refCount(A.registryKey()), "the cancelled waiter holds nothing");

            finishLoad.countDown();
            EngineRegistry.Lease l = loader.get();
            l.close();
            assertEquals(0, EngineRegistry.refCount(A.registryKey()));
            assertEquals(1, FakeEngine.CLOSES.get(), "the engine is closed once its loader released it");
        } finally {
            finishLoad.countDown();
            pool.shutdownNow();
        }
    }
}
