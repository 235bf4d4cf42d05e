package dev.quarry.jobs.cli;

import dev.quarry.engine.checkpoint.CheckpointMaker;
import dev.quarry.engine.checkpoint.Presets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quarry make-checkpoint}: a Hugging Face layout checkpoint with deterministic random weights. */
@Command(name = "make-checkpoint", mixinStandardHelpOptions = true,
        description = "Writes a Hugging Face layout checkpoint with RANDOM weights for a preset shape.")
public class MakeCheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--preset", required = true, description = "One of: tiny-hybrid, tiny-moe, tiny-dense, tiny-rope, "
            + "granite-4.0-h-350m, granite-4.0-h-1b, granite-4.0-h-micro, granite-4.0-h-tiny, granite-4.0-h-small, granite-4.0-micro")
    String preset;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, description = "Output directory")
    Path out;

    @Option(names = "--dtype", defaultValue = CheckpointMaker.DTYPE_F32, description = "f32 or bf16 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--shards", defaultValue = "1", description = "Number of safetensors files (default: ${DEFAULT-VALUE})")
    int shards;

    @Override
    public Integer call() throws Exception {
        Presets.config(preset); // unknown names fail before anything is written
        CheckpointMaker.make(preset, seed, out, dtype, shards);
        spec.commandLine().getOut().println("wrote " + preset + " (seed " + seed + ", " + dtype + ") to " + out);
        return 0;
    }
}
