package dev.quarry.engine.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import dev.quarry.engine.internal.MklCpuDispatch;
import dev.quarry.engine.model.GraniteConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The matmul roofline of a model's shapes, measured on this machine in this run: each linear weight
 * shape of the model is timed as {@code x[M, in] · Wᵀ} for the row counts a workload uses, and a
 * workload's roofline time is the sum of those matmul times (what the weights' FLOPs cost at the
 * measured matmul rate, with perfect batching and nothing else).
 */
public final class Roofline {
    /** One weight shape [out, in] and how many times one token multiplies it. */
    public record Weight(String name, int out, int in, double perToken) {}

    private final List<Weight> weights;
    private final GraniteConfig cfg;
    private final Device device;
    private final DataType dtype;
    private final Map<String, Double> cache = new HashMap<>();

    public Roofline(GraniteConfig cfg, Device device, DataType dtype) {
        this.cfg = cfg;
        this.device = device;
        this.dtype = dtype;
        this.weights = weights(cfg);
        MklCpuDispatch.enable(); // the same MKL kernels as the model's
    }

    public List<Weight> weights() { return weights; }

    static List<Weight> weights(GraniteConfig c) {
        Map<String, Weight> m = new java.util.LinkedHashMap<>();
        int h = c.hiddenSize;
        for (int l = 0; l < c.numHiddenLayers; l++) {
            if (c.layerType(l) == GraniteConfig.LayerType.MAMBA) {
                add(m, "mamba.in_proj", c.mambaInProjSize(), h, 1);
                add(m, "mamba.out_proj", h, c.mambaDInner(), 1);
            } else {
                int hd = c.headDim();
                add(m, "attn.q_proj", c.numAttentionHeads * hd, h, 1);
                add(m, "attn.k_proj", c.numKeyValueHeads * hd, h, 1);
                add(m, "attn.v_proj", c.numKeyValueHeads * hd, h, 1);
                add(m, "attn.o_proj", h, c.numAttentionHeads * hd, 1);
            }
            add(m, "shared_mlp.input", 2 * c.sharedIntermediateSize, h, 1);
            add(m, "shared_mlp.output", h, c.sharedIntermediateSize, 1);
            if (c.hasMoe()) {
                add(m, "moe.router", c.numLocalExperts, h, 1);
                add(m, "moe.expert_input", 2 * c.intermediateSize, h, c.numExpertsPerTok);
                add(m, "moe.expert_output", h, c.intermediateSize, c.numExpertsPerTok);
            }
        }
        return new ArrayList<>(m.values());
    }

    private static void add(Map<String, Weight> m, String name, int out, int in, double times) {
        Weight w = m.get(name);
        m.put(name, new Weight(name, out, in, (w == null ? 0 : w.perToken()) + times));
    }

    /** FLOPs of the per-token linear layers (no lm_head), per token. */
    public double flopsPerToken() {
        double f = 0;
        for (Weight w : weights) f += 2.0 * w.out() * w.in() * w.perToken();
        return f;
    }

    /** Seconds for {@code rows} token rows through every per-token weight once (no lm_head). */
    public double layerSeconds(int rows) {
        double t = 0;
        for (Weight w : weights) t += time(w.out(), w.in(), rows) * w.perToken();
        return t;
    }

    /** Seconds of the lm_head matmul for {@code rows} rows. */
    public double headSeconds(int rows) { return time(cfg.vocabSize, cfg.hiddenSize, rows); }

    /** Measured f32/bf16 matmul rate of the layer shapes at {@code rows} rows, in GFLOP/s. */
    public double gflops(int rows) { return flopsPerToken() * rows / layerSeconds(rows) / 1e9; }

    /** Roofline of prefilling {@code prompts} prompts of {@code promptLen} and decoding {@code gen} tokens for each. */
    public double workloadSeconds(int prompts, int promptLen, int gen) {
        return layerSeconds(prompts * promptLen) + headSeconds(prompts) + Math.max(0, gen - 1) * (layerSeconds(prompts) + headSeconds(prompts));
    }

    private double time(int out, int in, int rows) {
        String key = out + "x" + in + "@" + rows;
        Double t = cache.get(key);
        if (t != null) return t;
        try (NDManager m = NDManager.newBaseManager(device)) {
            NDArray w = m.randomNormal(new Shape(out, in)).toType(dtype, false);
            NDArray x = m.randomNormal(new Shape(rows, in)).toType(dtype, false);
            for (int i = 0; i < 2; i++) Linear.linear(x, w).close();
            int reps = 0;
            long start = System.nanoTime();
            long spent;
            do {
                Linear.linear(x, w).close();
                reps++;
                spent = System.nanoTime() - start;
            } while (spent < 200_000_000L && reps < 1000);
            Linear.linear(x, w).singletonOrThrow().get(0, 0).toFloatArray(); // device sync
            spent = System.nanoTime() - start;
            t = spent / 1e9 / reps;
        }
        cache.put(key, t);
        return t;
    }
}
