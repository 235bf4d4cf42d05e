package dev.quarry.engine.internal.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.quarry.engine.internal.MklCpuDispatch;
import dev.quarry.engine.model.GraniteConfig;
import java.util.StringJoiner;

/**
 * Run in a JVM of its own by MklCpuDispatchTest (MKL picks its kernels once per process): loads a tiny model the
 * engine's way, prefills a prompt, and prints the dispatch outcome, MKL's code path and the last position's logits.
 */
public final class MklProbe {
    private MklProbe() {}

    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", "true");
        GraniteConfig c = RandomWeights.tiny(false, true);
        try (GraniteModel model = GraniteModel.load(c, new FormulaWeights(c), Device.cpu(), DataType.FLOAT32);
                NDManager root = NDManager.newBaseManager()) {
            float[] logits = Logits.prefillAlone(model, root, new int[] {3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3});
            StringJoiner joined = new StringJoiner(",");
            for (float v : logits) joined.add(String.valueOf(v));
            System.out.println("outcome=" + MklCpuDispatch.enable());
            System.out.println("mkl_cpu_type=" + MklCpuDispatch.mklCpuType().map(String::valueOf).orElse("none"));
            System.out.println("logits=" + joined);
        }
    }
}
