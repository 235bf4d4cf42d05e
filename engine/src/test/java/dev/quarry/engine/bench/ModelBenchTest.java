package dev.quarry.engine.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ModelBenchTest {
    @Test
    void countsTheMinorFaultsOfTouchingFreshMemory() {
        // Quarry runs on Linux only (the pinned libtorch is linux-x86_64), so /proc/self/stat is there
        long before = ModelBench.minorFaults();
        ByteBuffer b = ByteBuffer.allocateDirect(64 << 20); // zeroed by the JVM: every page is touched
        for (int i = 0; i < b.capacity(); i += 4096) b.put(i, (byte) 1);
        long after = ModelBench.minorFaults();
        assertTrue(before > 0, "a running JVM has faulted pages in: " + before);
        // 64 MB is 16384 pages of 4 KB, or 32 of 2 MB where malloc gets transparent huge pages
        assertTrue(after - before >= 32, "faults " + before + " -> " + after);
    }
}
