package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.model.GraniteConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Deterministic random weights for a config (test helper, independent of the checkpoint code). */
public final class RandomWeights implements WeightSource {
    private final Map<String, float[]> values = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private final DataType dtype;

    public RandomWeights(GraniteConfig c, long seed, DataType dtype) {
        this.dtype = dtype;
        Random rnd = new Random(seed);
        int h = c.hiddenSize;
        put(rnd, "model.embed_tokens.weight", 0.5, 0, c.vocabSize, h);
        put(rnd, "model.norm.weight", 0.1, 1, h);
        if (!c.tieWordEmbeddings) put(rnd, "lm_head.weight", 0.2, 0, c.vocabSize, h);
        for (int i = 0; i < c.numHiddenLayers; i++) {
            String p = "model.layers." + i + ".";
            put(rnd, p + "input_layernorm.weight", 0.1, 1, h);
            put(rnd, p + "post_attention_layernorm.weight", 0.1, 1, h);
            if (c.layerType(i) == GraniteConfig.LayerType.MAMBA) {
                int nh = c.mambaNHeads;
                put(rnd, p + "mamba.in_proj.weight", 0.2, 0, c.mambaInProjSize(), h);
                put(rnd, p + "mamba.conv1d.weight", 0.3, 0, c.mambaConvDim(), 1, c.mambaDConv);
                put(rnd, p + "mamba.conv1d.bias", 0.1, 0, c.mambaConvDim());
                put(rnd, p + "mamba.dt_bias", 0.5, 0, nh);
                float[] alog = new float[nh];
                for (int j = 0; j < nh; j++) alog[j] = (float) Math.log(1 + rnd.nextDouble() * 8);
                values.put(p + "mamba.A_log", alog);
                shapes.put(p + "mamba.A_log", new long[] {nh});
                put(rnd, p + "mamba.D", 0.2, 1, nh);
                put(rnd, p + "mamba.norm.weight", 0.1, 1, c.mambaDInner());
                put(rnd, p + "mamba.out_proj.weight", 0.2, 0, h, c.mambaDInner());
            } else {
                int hd = c.headDim();
                put(rnd, p + "self_attn.q_proj.weight", 0.3, 0, c.numAttentionHeads * hd, h);
                put(rnd, p + "self_attn.k_proj.weight", 0.3, 0, c.numKeyValueHeads * hd, h);
                put(rnd, p + "self_attn.v_proj.weight", 0.3, 0, c.numKeyValueHeads * hd, h);
                put(rnd, p + "self_attn.o_proj.weight", 0.2, 0, h, c.numAttentionHeads * hd);
            }
            if (c.hasMoe()) {
                int e = c.numLocalExperts, in = c.intermediateSize;
                put(rnd, p + "block_sparse_moe.router.layer.weight", 0.5, 0, e, h);
                put(rnd, p + "block_sparse_moe.input_linear.weight", 0.2, 0, e, 2 * in, h);
                put(rnd, p + "block_sparse_moe.output_linear.weight", 0.2, 0, e, h, in);
            }
            put(rnd, p + "shared_mlp.input_linear.weight", 0.2, 0, 2 * c.sharedIntermediateSize, h);
            put(rnd, p + "shared_mlp.output_linear.weight", 0.2, 0, h, c.sharedIntermediateSize);
        }
    }

    private void put(Random rnd, String name, double std, double mean, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (mean + std * rnd.nextGaussian());
        values.put(name, v);
        shapes.put(name, shape);
    }

    @Override
    public NDArray get(NDManager manager, String name, boolean fp32) {
        float[] v = values.get(name);
        if (v == null) throw new IllegalArgumentException("no tensor " + name);
        if (dtype == DataType.BFLOAT16) v = roundToBf16(v);
        return manager.create(v, new Shape(shapes.get(name)));
    }

    /** Rounds each value to the nearest bf16 (ties to even), kept as fp32. */
    static float[] roundToBf16(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            int bits = Float.floatToRawIntBits(v[i]);
            bits += 0x7FFF + ((bits >>> 16) & 1);
            r[i] = Float.intBitsToFloat(bits & 0xFFFF0000);
        }
        return r;
    }

    /** Tiny hybrid: mamba/attention layers, ng=2, chunk 8, MoE. */
    public static GraniteConfig tiny(boolean rope, boolean moe) {
        GraniteConfig.Builder b = GraniteConfig.builder();
        b.vocabSize = 61;
        b.hiddenSize = 32;
        b.numHiddenLayers = 4;
        b.numAttentionHeads = 4;
        b.numKeyValueHeads = 2;
        b.intermediateSize = 16;
        b.sharedIntermediateSize = 24;
        b.numLocalExperts = moe ? 4 : 0;
        b.numExpertsPerTok = moe ? 2 : 0;
        b.layerTypes = List.of(GraniteConfig.LayerType.MAMBA, GraniteConfig.LayerType.ATTENTION,
                GraniteConfig.LayerType.MAMBA, GraniteConfig.LayerType.ATTENTION);
        b.mambaNHeads = 4;
        b.mambaNGroups = 2;
        b.mambaDState = 8;
        b.mambaDHead = 16;
        b.mambaExpand = 2;
        b.mambaChunkSize = 8;
        b.rmsNormEps = 1e-5;
        b.embeddingMultiplier = 2.0;
        b.residualMultiplier = 0.5;
        b.attentionMultiplier = 1.0 / 8;
        b.logitsScaling = 2.0;
        b.tieWordEmbeddings = true;
        b.positionEmbeddingType = rope ? "rope" : "nope";
        b.ropeTheta = 100;
        return b.build().validate();
    }
}
