package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.model.GraniteConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Random weights of the right shapes for a config, drawn natively (fast even for real-size shapes); for
 * benchmarks of model shapes when no checkpoint is at hand. Values are sane (finite logits), not meaningful.
 */
public final class SyntheticWeights implements WeightSource {
    private final Map<String, long[]> shapes;

    public SyntheticWeights(GraniteConfig c) {
        this.shapes = shapes(c);
    }

    /** HF tensor name -> shape for a config (spec §3). */
    public static Map<String, long[]> shapes(GraniteConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int h = c.hiddenSize;
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize, h});
        m.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings) m.put("lm_head.weight", new long[] {c.vocabSize, h});
        for (int i = 0; i < c.numHiddenLayers; i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            if (c.layerType(i) == GraniteConfig.LayerType.MAMBA) {
                m.put(p + "mamba.in_proj.weight", new long[] {c.mambaInProjSize(), h});
                m.put(p + "mamba.conv1d.weight", new long[] {c.mambaConvDim(), 1, c.mambaDConv});
                if (c.mambaConvBias) m.put(p + "mamba.conv1d.bias", new long[] {c.mambaConvDim()});
                m.put(p + "mamba.dt_bias", new long[] {c.mambaNHeads});
                m.put(p + "mamba.A_log", new long[] {c.mambaNHeads});
                m.put(p + "mamba.D", new long[] {c.mambaNHeads});
                m.put(p + "mamba.norm.weight", new long[] {c.mambaDInner()});
                m.put(p + "mamba.out_proj.weight", new long[] {h, c.mambaDInner()});
            } else {
                int hd = c.headDim();
                m.put(p + "self_attn.q_proj.weight", new long[] {(long) c.numAttentionHeads * hd, h});
                m.put(p + "self_attn.k_proj.weight", new long[] {(long) c.numKeyValueHeads * hd, h});
                m.put(p + "self_attn.v_proj.weight", new long[] {(long) c.numKeyValueHeads * hd, h});
                m.put(p + "self_attn.o_proj.weight", new long[] {h, (long) c.numAttentionHeads * hd});
            }
            if (c.hasMoe()) {
                m.put(p + "block_sparse_moe.router.layer.weight", new long[] {c.numLocalExperts, h});
                m.put(p + "block_sparse_moe.input_linear.weight", new long[] {c.numLocalExperts, 2L * c.intermediateSize, h});
                m.put(p + "block_sparse_moe.output_linear.weight", new long[] {c.numLocalExperts, h, c.intermediateSize});
            }
            m.put(p + "shared_mlp.input_linear.weight", new long[] {2L * c.sharedIntermediateSize, h});
            m.put(p + "shared_mlp.output_linear.weight", new long[] {h, c.sharedIntermediateSize});
        }
        return m;
    }

    @Override
    public NDArray get(NDManager manager, String name, boolean fp32) {
        long[] s = shapes.get(name);
        if (s == null) throw new IllegalArgumentException("no tensor " + name);
        Shape shape = new Shape(s);
        if (name.endsWith("norm.weight") || name.endsWith(".D")) return manager.ones(shape, DataType.FLOAT32);
        if (name.endsWith("A_log")) return manager.randomUniform(0f, 2f, shape, DataType.FLOAT32);
        if (name.endsWith("dt_bias")) return manager.randomUniform(-4f, -2f, shape, DataType.FLOAT32);
        float std = (float) (1.0 / Math.sqrt(s[s.length - 1]));
        return manager.randomNormal(0f, std, shape, DataType.FLOAT32);
    }
}
