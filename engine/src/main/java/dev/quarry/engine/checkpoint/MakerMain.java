package dev.quarry.engine.checkpoint;

import java.nio.file.Path;

/** {@code MakerMain PRESET SEED OUT [f32|bf16] [SHARDS]}: CheckpointMaker without the CLI (golden script). */
public final class MakerMain {
    private MakerMain() {}

    public static void main(String[] a) throws Exception {
        CheckpointMaker.make(a[0], Long.parseLong(a[1]), Path.of(a[2]), a.length > 3 ? a[3] : CheckpointMaker.DTYPE_F32,
                a.length > 4 ? Integer.parseInt(a[4]) : 1);
    }
}
