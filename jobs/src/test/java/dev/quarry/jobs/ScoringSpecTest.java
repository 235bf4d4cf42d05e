package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.ResultSchema.TaskKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The spec line bulk-score and stream print at start says which dtype the engine will use (it said "dtype=null"). */
class ScoringSpecTest {
    @Test
    void startLineShowsTheEffectiveDtype() {
        String cpu = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(Path.of("m")).build().toString();
        assertTrue(cpu.contains("device=cpu, dtype=f32 (default)") && !cpu.contains("null"), cpu);
        String cuda = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(Path.of("m")).device("cuda:0").build().toString();
        assertTrue(cuda.contains("dtype=bf16 (default)"), cuda);
        String given = ScoringSpec.builder().task(TaskKind.SUMMARIZE).modelDir(Path.of("m")).dtype("bf16").build().toString();
        assertTrue(given.contains("dtype=bf16,"), given);
    }
}
