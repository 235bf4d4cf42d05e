package dev.quarry.engine.checkpoint;

import dev.quarry.engine.model.GraniteConfig;
import dev.quarry.engine.model.GraniteConfig.LayerType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Named configs for {@code quarry make-checkpoint}: tiny test shapes and the real Granite 4.0 shapes
 * (granite-architecture.md §1.2). Tiny presets use a tiny byte-level tokenizer ({@link #TINY_TOKENIZER_SIZE}
 * ids) and an embedding padded a few rows past it, like real Granite (100352 rows, 100284 tokens).
 */
public final class Presets {
    public static final int TINY_TOKENIZER_SIZE = 284;
    public static final int TINY_VOCAB_ROWS = 320;
    public static final int REAL_TOKENIZER_SIZE = 100284;
    public static final int REAL_VOCAB_ROWS = 100352;

    public static final List<String> NAMES = List.of("tiny-hybrid", "tiny-moe", "tiny-dense", "tiny-rope",
            "granite-4.0-h-350m", "granite-4.0-h-1b", "granite-4.0-h-micro", "granite-4.0-h-tiny",
            "granite-4.0-h-small", "granite-4.0-micro");

    private Presets() {}

    public static boolean isTiny(String name) { return name.startsWith("tiny-"); }

    /** The config of a preset; an unknown name is an error listing the known ones. */
    public static GraniteConfig config(String name) {
        switch (name) {
            case "tiny-hybrid": return tiny(List.of(0, 2, 3), 1, 2, 0, "nope");
            case "tiny-moe": return tiny(List.of(0, 2, 3), 1, 1, 4, "nope");
            case "tiny-dense": return tiny(List.of(), 4, 1, 0, "nope");
            case "tiny-rope": return tiny(List.of(0, 2), 1, 2, 0, "rope");
            case "granite-4.0-h-350m":
                return real(32, 768, Set.of(10, 13, 17, 27), 12, 4, 0.015625, 48, 32, 128, 0, 0, 2048, 2048, 0.246, 3, false, 32768);
            case "granite-4.0-h-1b":
                return real(40, 1536, Set.of(5, 15, 25, 35), 12, 4, 0.0078125, 48, 64, 128, 0, 0, 4096, 4096, 0.22, 6, false, 131072);
            case "granite-4.0-h-micro":
                return real(40, 2048, Set.of(5, 15, 25, 35), 32, 8, 0.015625, 64, 64, 128, 0, 0, 8192, 8192, 0.22, 8, false, 131072);
            case "granite-4.0-h-tiny":
                return real(40, 1536, Set.of(5, 15, 25, 35), 12, 4, 0.0078125, 48, 64, 128, 64, 6, 512, 1024, 0.22, 6, false, 131072);
            case "granite-4.0-h-small":
                return real(40, 4096, Set.of(5, 15, 25, 35), 32, 8, 0.0078125, 128, 64, 128, 72, 10, 768, 1536, 0.22, 16, false, 131072);
            case "granite-4.0-micro": {
                Set<Integer> all = new TreeSet<>();
                for (int i = 0; i < 40; i++) all.add(i);
                return real(40, 2560, all, 40, 8, 0.015625, 128, 40, 256, 0, 0, 8192, 8192, 0.22, 10, true, 131072);
            }
            default:
                throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + String.join(", ", NAMES));
        }
    }

    private static GraniteConfig tiny(List<Integer> mambaLayers, int nLayersIfDense, int ng, int experts, String pos) {
        GraniteConfig.Builder b = GraniteConfig.builder();
        int layers = mambaLayers.isEmpty() ? nLayersIfDense : 4;
        List<LayerType> types = new ArrayList<>();
        for (int i = 0; i < layers; i++) types.add(mambaLayers.contains(i) ? LayerType.MAMBA : LayerType.ATTENTION);
        b.layerTypes = types;
        b.numHiddenLayers = layers;
        b.vocabSize = TINY_VOCAB_ROWS;
        b.hiddenSize = 64;
        b.numAttentionHeads = 4;
        b.numKeyValueHeads = 2;
        b.sharedIntermediateSize = 128;
        b.intermediateSize = experts > 0 ? 32 : 128;
        b.numLocalExperts = experts;
        b.numExpertsPerTok = experts > 0 ? 2 : 0;
        b.mambaNHeads = 8;
        b.mambaDHead = 16;
        b.mambaDState = 16;
        b.mambaNGroups = ng;
        b.mambaExpand = 2;
        b.mambaChunkSize = 16;
        b.positionEmbeddingType = pos;
        b.ropeTheta = 10000;
        b.maxPositionEmbeddings = 4096;
        common(b, 256, 257);
        b.attentionMultiplier = 1.0 / 16;
        b.residualMultiplier = 0.22;
        b.logitsScaling = 4;
        return b.build().validate();
    }

    private static GraniteConfig real(int layers, int h, Set<Integer> attention, int nq, int nkv, double attMul, int nh,
            int hd, int ds, int experts, int topK, int inter, int shared, double residual, double logitsScaling,
            boolean rope, int maxPos) {
        GraniteConfig.Builder b = GraniteConfig.builder();
        List<LayerType> types = new ArrayList<>();
        for (int i = 0; i < layers; i++) types.add(attention.contains(i) ? LayerType.ATTENTION : LayerType.MAMBA);
        b.layerTypes = types;
        b.numHiddenLayers = layers;
        b.vocabSize = REAL_VOCAB_ROWS;
        b.hiddenSize = h;
        b.numAttentionHeads = nq;
        b.numKeyValueHeads = nkv;
        b.attentionMultiplier = attMul;
        b.mambaNHeads = nh;
        b.mambaDHead = hd;
        b.mambaDState = ds;
        b.mambaNGroups = 1;
        b.mambaExpand = 2;
        b.mambaChunkSize = 256;
        b.numLocalExperts = experts;
        b.numExpertsPerTok = topK;
        b.intermediateSize = inter;
        b.sharedIntermediateSize = shared;
        b.residualMultiplier = residual;
        b.logitsScaling = logitsScaling;
        b.positionEmbeddingType = rope ? "rope" : "nope";
        b.ropeTheta = rope ? 1e7 : 10000;
        b.maxPositionEmbeddings = maxPos;
        common(b, 100256, 100257);
        return b.build().validate();
    }

    private static void common(GraniteConfig.Builder b, int pad, int eos) {
        b.rmsNormEps = 1e-5;
        b.tieWordEmbeddings = true;
        b.embeddingMultiplier = 12;
        b.padTokenId = pad;
        b.bosTokenId = eos;
        b.eosTokenId = eos;
        b.mambaDConv = 4;
        b.mambaConvBias = true;
        b.mambaProjBias = false;
        b.attentionBias = false;
        b.hiddenAct = "silu";
    }
}
