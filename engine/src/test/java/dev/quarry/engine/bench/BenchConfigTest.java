package dev.quarry.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchConfigTest {
    private static BenchConfig.Builder base() {
        return BenchConfig.builder().modelDir(Path.of("/m")).dtype("f32");
    }

    @Test
    void labelsDefaultAndOverride() {
        assertEquals(BenchConfig.DEFAULT_LABELS, base().build().labels());
        assertEquals(List.of("A", "B", "C", "D"), base().labels(List.of("A", "B", "C", "D")).build().labels());
    }

    @Test
    void badLabelsAndSizesFailAtBuild() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> base().labels(List.of("A", "A")).build());
        assertTrue(e.getMessage().contains("distinct"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> base().labels(List.of("A")).build());
        assertThrows(IllegalArgumentException.class, () -> base().prompts(0).build());
        assertThrows(IllegalArgumentException.class, () -> base().workloads(List.of("nope")).build());
    }
}
