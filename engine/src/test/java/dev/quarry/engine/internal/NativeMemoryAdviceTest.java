package dev.quarry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativeMemoryAdviceTest {
    @Test
    void recognisesTheHugePageTunable() {
        assertTrue(NativeMemoryAdvice.tuned(NativeMemoryAdvice.RECOMMENDED_GLIBC_TUNABLES));
        assertTrue(NativeMemoryAdvice.tuned("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"));
        assertFalse(NativeMemoryAdvice.tuned(null));
        assertFalse(NativeMemoryAdvice.tuned("glibc.malloc.hugetlb=0"));
    }

    /** This project's machines (and its Docker image) run glibc on Linux: the heap trim after a load must be real there. */
    @Test
    void trimsTheHeapOnGlibcLinux() {
        boolean linux = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux");
        assertEquals(linux, NativeMemoryAdvice.trimHeap());
    }

    @Test
    void parsesTheTrimThreshold() {
        assertEquals(NativeMemoryAdvice.TRIM_AFTER_TOKENS, NativeMemoryAdvice.parse(null));
        assertEquals(NativeMemoryAdvice.TRIM_AFTER_TOKENS, NativeMemoryAdvice.parse(" "));
        assertEquals(0, NativeMemoryAdvice.parse("0"));
        assertEquals(4096, NativeMemoryAdvice.parse(" 4096 "));
        for (String bad : new String[] {"-1", "many", "1e3"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeMemoryAdvice.parse(bad));
            assertTrue(e.getMessage().contains(NativeMemoryAdvice.TRIM_PROPERTY) && e.getMessage().contains(bad), e.getMessage());
        }
    }

    /** The launcher and the Docker image set the same value the engine recommends. */
    @Test
    void launcherAndImageSetTheRecommendedValue() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        for (String file : new String[] {"quarry", "docker/Dockerfile"}) {
            String text = Files.readString(root.resolve(file));
            assertTrue(text.contains("GLIBC_TUNABLES") && text.contains(NativeMemoryAdvice.RECOMMENDED_GLIBC_TUNABLES),
                    file + " does not set GLIBC_TUNABLES=" + NativeMemoryAdvice.RECOMMENDED_GLIBC_TUNABLES);
        }
    }
}
