package dev.quarry.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A {@code granitemoehybrid} config.json, parsed field by field (see granite-architecture.md §1).
 * Immutable. Derived sizes are methods. {@link #validate()} checks internal consistency; tensor shapes
 * are checked against it at load time.
 */
public final class GraniteConfig {
    public static final String MODEL_TYPE = "granitemoehybrid";

    /** Layer kinds. */
    public enum LayerType { MAMBA, ATTENTION }

    public final int vocabSize;
    public final int hiddenSize;
    public final int intermediateSize;
    public final int sharedIntermediateSize;
    public final int numHiddenLayers;
    public final int numAttentionHeads;
    public final int numKeyValueHeads;
    public final String hiddenAct;
    public final int maxPositionEmbeddings;
    public final double rmsNormEps;
    public final Integer padTokenId;
    public final Integer bosTokenId;
    public final Integer eosTokenId;
    public final boolean tieWordEmbeddings;
    public final double ropeTheta;
    public final boolean attentionBias;
    public final double embeddingMultiplier;
    public final double logitsScaling;
    public final double residualMultiplier;
    public final double attentionMultiplier;
    public final int numLocalExperts;
    public final int numExpertsPerTok;
    /** "rope" enables RoPE; anything else (checkpoints: "nope") means no positional encoding. */
    public final String positionEmbeddingType;
    public final List<LayerType> layerTypes;
    public final int mambaNHeads;
    public final int mambaNGroups;
    public final int mambaDState;
    public final int mambaDHead;
    public final int mambaDConv;
    public final int mambaExpand;
    public final int mambaChunkSize;
    public final boolean mambaConvBias;
    public final boolean mambaProjBias;
    public final double timeStepLimitMin;
    public final double timeStepLimitMax;

    private GraniteConfig(Builder b) {
        this.vocabSize = b.vocabSize;
        this.hiddenSize = b.hiddenSize;
        this.intermediateSize = b.intermediateSize;
        this.sharedIntermediateSize = b.sharedIntermediateSize;
        this.numHiddenLayers = b.numHiddenLayers;
        this.numAttentionHeads = b.numAttentionHeads;
        this.numKeyValueHeads = b.numKeyValueHeads == null ? b.numAttentionHeads : b.numKeyValueHeads;
        this.hiddenAct = b.hiddenAct;
        this.maxPositionEmbeddings = b.maxPositionEmbeddings;
        this.rmsNormEps = b.rmsNormEps;
        this.padTokenId = b.padTokenId;
        this.bosTokenId = b.bosTokenId;
        this.eosTokenId = b.eosTokenId;
        this.tieWordEmbeddings = b.tieWordEmbeddings;
        this.ropeTheta = b.ropeTheta;
        this.attentionBias = b.attentionBias;
        this.embeddingMultiplier = b.embeddingMultiplier;
        this.logitsScaling = b.logitsScaling;
        this.residualMultiplier = b.residualMultiplier;
        this.attentionMultiplier = b.attentionMultiplier;
        this.numLocalExperts = b.numLocalExperts;
        this.numExpertsPerTok = b.numExpertsPerTok;
        this.positionEmbeddingType = b.positionEmbeddingType;
        List<LayerType> lt = b.layerTypes;
        if (lt == null) {
            lt = new ArrayList<>(Collections.nCopies(b.numHiddenLayers, LayerType.MAMBA));
        }
        this.layerTypes = List.copyOf(lt);
        this.mambaNHeads = b.mambaNHeads;
        this.mambaNGroups = b.mambaNGroups;
        this.mambaDState = b.mambaDState;
        this.mambaDHead = b.mambaDHead == null ? (b.mambaExpand * b.hiddenSize) / b.mambaNHeads : b.mambaDHead;
        this.mambaDConv = b.mambaDConv;
        this.mambaExpand = b.mambaExpand;
        this.mambaChunkSize = b.mambaChunkSize;
        this.mambaConvBias = b.mambaConvBias;
        this.mambaProjBias = b.mambaProjBias;
        this.timeStepLimitMin = b.timeStepLimitMin;
        this.timeStepLimitMax = b.timeStepLimitMax;
    }

    // ---- derived sizes -------------------------------------------------------------------------

    /** Attention head dim: hidden_size / num_attention_heads. */
    public int headDim() { return hiddenSize / numAttentionHeads; }
    /** d_inner = mamba_expand * hidden_size. */
    public int mambaDInner() { return mambaExpand * hiddenSize; }
    /** conv_dim = d_inner + 2 * ng * ds. */
    public int mambaConvDim() { return mambaDInner() + 2 * mambaNGroups * mambaDState; }
    /** in_proj rows = 2 * d_inner + 2 * ng * ds + nh. */
    public int mambaInProjSize() { return 2 * mambaDInner() + 2 * mambaNGroups * mambaDState + mambaNHeads; }
    public boolean useRope() { return "rope".equals(positionEmbeddingType); }
    public boolean hasMoe() { return numLocalExperts > 0; }
    public LayerType layerType(int layer) { return layerTypes.get(layer); }
    public long attentionLayerCount() { return layerTypes.stream().filter(t -> t == LayerType.ATTENTION).count(); }
    public long mambaLayerCount() { return layerTypes.stream().filter(t -> t == LayerType.MAMBA).count(); }

    /**
     * Checks internal consistency; throws {@link IllegalArgumentException} naming the field.
     *
     * @return this
     */
    public GraniteConfig validate() {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("shared_intermediate_size", sharedIntermediateSize);
        if (hiddenSize % numAttentionHeads != 0)
            throw bad("hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads);
        if (numAttentionHeads % numKeyValueHeads != 0)
            throw bad("num_attention_heads " + numAttentionHeads + " is not divisible by num_key_value_heads " + numKeyValueHeads);
        if (layerTypes.size() != numHiddenLayers)
            throw bad("layer_types has " + layerTypes.size() + " entries but num_hidden_layers is " + numHiddenLayers);
        if (!"silu".equals(hiddenAct)) throw bad("hidden_act '" + hiddenAct + "' is not supported (only silu)");
        if (!(rmsNormEps > 0)) throw bad("rms_norm_eps must be > 0, got " + rmsNormEps);
        if (!(logitsScaling != 0)) throw bad("logits_scaling must not be 0");
        if (numLocalExperts < 0) throw bad("num_local_experts must be >= 0");
        if (numLocalExperts > 0) {
            positive("intermediate_size", intermediateSize);
            if (numExpertsPerTok < 1 || numExpertsPerTok > numLocalExperts)
                throw bad("num_experts_per_tok " + numExpertsPerTok + " must be in [1, num_local_experts=" + numLocalExperts + "]");
        }
        if (mambaLayerCount() > 0) {
            positive("mamba_n_heads", mambaNHeads);
            positive("mamba_n_groups", mambaNGroups);
            positive("mamba_d_state", mambaDState);
            positive("mamba_d_head", mambaDHead);
            positive("mamba_d_conv", mambaDConv);
            positive("mamba_chunk_size", mambaChunkSize);
            if (mambaDInner() != mambaNHeads * mambaDHead)
                throw bad("mamba_expand*hidden_size (" + mambaDInner() + ") != mamba_n_heads*mamba_d_head ("
                        + mambaNHeads + "*" + mambaDHead + ")");
            if (mambaNHeads % mambaNGroups != 0)
                throw bad("mamba_n_heads " + mambaNHeads + " is not divisible by mamba_n_groups " + mambaNGroups);
        }
        if (useRope() && headDim() % 2 != 0) throw bad("RoPE needs an even head dim, got " + headDim());
        return this;
    }

    private static void positive(String field, int v) {
        if (v <= 0) throw bad(field + " must be > 0, got " + v);
    }

    private static IllegalArgumentException bad(String msg) {
        return new IllegalArgumentException("config.json: " + msg);
    }

    // ---- JSON ----------------------------------------------------------------------------------

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Reads and validates {@code dir/config.json}. */
    public static GraniteConfig load(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new IOException("missing " + configJson);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException(configJson + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(root).validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Parses a config.json tree field by field. Unknown model_type is an error. */
    public static GraniteConfig fromJson(JsonNode n) {
        String modelType = text(n, "model_type", null);
        if (!MODEL_TYPE.equals(modelType)) {
            throw bad("model_type is '" + modelType + "', expected '" + MODEL_TYPE + "'");
        }
        Builder b = builder();
        b.vocabSize = integer(n, "vocab_size", b.vocabSize);
        b.hiddenSize = integer(n, "hidden_size", b.hiddenSize);
        b.intermediateSize = integer(n, "intermediate_size", b.intermediateSize);
        b.sharedIntermediateSize = integer(n, "shared_intermediate_size", b.sharedIntermediateSize);
        b.numHiddenLayers = integer(n, "num_hidden_layers", b.numHiddenLayers);
        b.numAttentionHeads = integer(n, "num_attention_heads", b.numAttentionHeads);
        b.numKeyValueHeads = n.hasNonNull("num_key_value_heads") ? integer(n, "num_key_value_heads", 0) : null;
        b.hiddenAct = text(n, "hidden_act", b.hiddenAct);
        b.maxPositionEmbeddings = integer(n, "max_position_embeddings", b.maxPositionEmbeddings);
        b.rmsNormEps = number(n, "rms_norm_eps", b.rmsNormEps);
        b.padTokenId = optInt(n, "pad_token_id", b.padTokenId);
        b.bosTokenId = optInt(n, "bos_token_id", b.bosTokenId);
        b.eosTokenId = optInt(n, "eos_token_id", b.eosTokenId);
        b.tieWordEmbeddings = bool(n, "tie_word_embeddings", b.tieWordEmbeddings);
        b.ropeTheta = number(n, "rope_theta", b.ropeTheta);
        JsonNode rp = n.get("rope_parameters");
        if (rp != null && rp.isObject() && rp.has("rope_theta")) {
            b.ropeTheta = number(rp, "rope_theta", b.ropeTheta);
        }
        b.attentionBias = bool(n, "attention_bias", b.attentionBias);
        b.embeddingMultiplier = number(n, "embedding_multiplier", b.embeddingMultiplier);
        b.logitsScaling = number(n, "logits_scaling", b.logitsScaling);
        b.residualMultiplier = number(n, "residual_multiplier", b.residualMultiplier);
        b.attentionMultiplier = number(n, "attention_multiplier", b.attentionMultiplier);
        b.numLocalExperts = integer(n, "num_local_experts", b.numLocalExperts);
        b.numExpertsPerTok = integer(n, "num_experts_per_tok", b.numExpertsPerTok);
        b.positionEmbeddingType = text(n, "position_embedding_type", b.positionEmbeddingType);
        JsonNode lt = n.hasNonNull("layer_types") ? n.get("layer_types") : n.get("layers_block_type");
        if (lt != null && !lt.isNull()) {
            if (!lt.isArray()) throw bad("layer_types must be a list");
            List<LayerType> types = new ArrayList<>();
            for (JsonNode t : lt) {
                types.add(parseLayerType(t.asText()));
            }
            b.layerTypes = types;
        }
        b.mambaNHeads = integer(n, "mamba_n_heads", b.mambaNHeads);
        b.mambaNGroups = integer(n, "mamba_n_groups", b.mambaNGroups);
        b.mambaDState = integer(n, "mamba_d_state", b.mambaDState);
        JsonNode dh = n.get("mamba_d_head");
        if (dh != null && !dh.isNull() && !(dh.isTextual() && dh.asText().equals("auto"))) {
            b.mambaDHead = integer(n, "mamba_d_head", 0);
        }
        b.mambaDConv = integer(n, "mamba_d_conv", b.mambaDConv);
        b.mambaExpand = integer(n, "mamba_expand", b.mambaExpand);
        b.mambaChunkSize = integer(n, "mamba_chunk_size", b.mambaChunkSize);
        b.mambaConvBias = bool(n, "mamba_conv_bias", b.mambaConvBias);
        b.mambaProjBias = bool(n, "mamba_proj_bias", b.mambaProjBias);
        JsonNode tsl = n.get("time_step_limit");
        if (tsl != null && !tsl.isNull() && !(tsl.isArray() && tsl.size() == 2)) {
            throw bad("time_step_limit must be a [min, max] pair, got " + tsl);
        }
        if (tsl != null && tsl.isArray() && tsl.size() == 2) {
            b.timeStepLimitMin = floatValue(tsl.get(0), "time_step_limit[0]");
            b.timeStepLimitMax = floatValue(tsl.get(1), "time_step_limit[1]");
        }
        return b.build();
    }

    private static LayerType parseLayerType(String s) {
        switch (s) {
            case "mamba":
            case "linear_attention":
                return LayerType.MAMBA;
            case "attention":
            case "full_attention":
                return LayerType.ATTENTION;
            default:
                throw bad("unknown layer type '" + s + "' in layer_types");
        }
    }

    /** Accepts plain numbers, "Infinity" strings and transformers 5.x {"__float__": "Infinity"}. */
    private static double floatValue(JsonNode v, String field) {
        if (v == null || v.isNull()) throw bad(field + " is null");
        if (v.isNumber()) return v.asDouble();
        if (v.isObject() && v.has("__float__")) v = v.get("__float__");
        if (v.isTextual()) {
            String t = v.asText();
            if (t.equalsIgnoreCase("inf") || t.equalsIgnoreCase("infinity")) return Double.POSITIVE_INFINITY;
            if (t.equalsIgnoreCase("-inf") || t.equalsIgnoreCase("-infinity")) return Double.NEGATIVE_INFINITY;
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw bad(field + " is not a number: '" + t + "'");
            }
        }
        throw bad(field + " is not a number: " + v);
    }

    private static int integer(JsonNode n, String field, int dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber()) throw bad(field + " must be an integer, got " + v);
        if (!v.canConvertToInt()) throw bad(field + " " + v + " is out of range");
        return v.asInt();
    }

    private static Integer optInt(JsonNode n, String field, Integer dflt) {
        JsonNode v = n.get(field);
        if (v == null) return dflt;
        if (v.isNull()) return null;
        if (v.isArray() && v.size() > 0) v = v.get(0); // eos may be a list; first wins
        if (!v.isIntegralNumber()) throw bad(field + " must be an integer, got " + v);
        if (!v.canConvertToInt()) throw bad(field + " " + v + " is out of range");
        return v.asInt();
    }

    private static double number(JsonNode n, String field, double dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return dflt;
        return floatValue(v, field);
    }

    private static boolean bool(JsonNode n, String field, boolean dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw bad(field + " must be true or false, got " + v);
        return v.asBoolean();
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return dflt;
        return v.asText();
    }

    /** The config as a Hugging Face config.json tree. */
    public ObjectNode toJson() {
        ObjectNode o = MAPPER.createObjectNode();
        o.putArray("architectures").add("GraniteMoeHybridForCausalLM");
        o.put("model_type", MODEL_TYPE);
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("shared_intermediate_size", sharedIntermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("hidden_act", hiddenAct);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("rms_norm_eps", rmsNormEps);
        if (padTokenId != null) o.put("pad_token_id", padTokenId); else o.putNull("pad_token_id");
        if (bosTokenId != null) o.put("bos_token_id", bosTokenId); else o.putNull("bos_token_id");
        if (eosTokenId != null) o.put("eos_token_id", eosTokenId); else o.putNull("eos_token_id");
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("rope_theta", ropeTheta);
        o.putNull("rope_scaling");
        o.put("attention_bias", attentionBias);
        o.put("attention_dropout", 0.0);
        o.put("embedding_multiplier", embeddingMultiplier);
        o.put("logits_scaling", logitsScaling);
        o.put("residual_multiplier", residualMultiplier);
        o.put("attention_multiplier", attentionMultiplier);
        o.put("num_local_experts", numLocalExperts);
        o.put("num_experts_per_tok", numExpertsPerTok);
        o.put("position_embedding_type", positionEmbeddingType == null ? "nope" : positionEmbeddingType);
        ArrayNode lt = o.putArray("layer_types");
        for (LayerType t : layerTypes) lt.add(t == LayerType.MAMBA ? "mamba" : "attention");
        o.put("mamba_n_heads", mambaNHeads);
        o.put("mamba_n_groups", mambaNGroups);
        o.put("mamba_d_state", mambaDState);
        o.put("mamba_d_head", mambaDHead);
        o.put("mamba_d_conv", mambaDConv);
        o.put("mamba_expand", mambaExpand);
        o.put("mamba_chunk_size", mambaChunkSize);
        o.put("mamba_conv_bias", mambaConvBias);
        o.put("mamba_proj_bias", mambaProjBias);
        o.put("normalization_function", "rmsnorm");
        o.put("output_router_logits", false);
        o.put("router_aux_loss_coef", 0.01);
        o.put("use_cache", true);
        return o;
    }

    public static Builder builder() { return new Builder(); }

    /** Copy into a builder (for presets and tests). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.vocabSize = vocabSize; b.hiddenSize = hiddenSize; b.intermediateSize = intermediateSize;
        b.sharedIntermediateSize = sharedIntermediateSize; b.numHiddenLayers = numHiddenLayers;
        b.numAttentionHeads = numAttentionHeads; b.numKeyValueHeads = numKeyValueHeads; b.hiddenAct = hiddenAct;
        b.maxPositionEmbeddings = maxPositionEmbeddings; b.rmsNormEps = rmsNormEps; b.padTokenId = padTokenId;
        b.bosTokenId = bosTokenId; b.eosTokenId = eosTokenId; b.tieWordEmbeddings = tieWordEmbeddings;
        b.ropeTheta = ropeTheta; b.attentionBias = attentionBias; b.embeddingMultiplier = embeddingMultiplier;
        b.logitsScaling = logitsScaling; b.residualMultiplier = residualMultiplier;
        b.attentionMultiplier = attentionMultiplier; b.numLocalExperts = numLocalExperts;
        b.numExpertsPerTok = numExpertsPerTok; b.positionEmbeddingType = positionEmbeddingType;
        b.layerTypes = new ArrayList<>(layerTypes); b.mambaNHeads = mambaNHeads; b.mambaNGroups = mambaNGroups;
        b.mambaDState = mambaDState; b.mambaDHead = mambaDHead; b.mambaDConv = mambaDConv;
        b.mambaExpand = mambaExpand; b.mambaChunkSize = mambaChunkSize; b.mambaConvBias = mambaConvBias;
        b.mambaProjBias = mambaProjBias; b.timeStepLimitMin = timeStepLimitMin; b.timeStepLimitMax = timeStepLimitMax;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GraniteConfig && toJson().equals(((GraniteConfig) o).toJson());
    }

    @Override
    public int hashCode() { return Objects.hash(toJson()); }

    @Override
    public String toString() { return toJson().toString(); }

    /** Mutable builder; defaults are the HF class defaults (spec §1.1). */
    public static final class Builder {
        public int vocabSize = 32000;
        public int hiddenSize = 4096;
        public int intermediateSize = 11008;
        public int sharedIntermediateSize = 1024;
        public int numHiddenLayers = 32;
        public int numAttentionHeads = 32;
        public Integer numKeyValueHeads;
        public String hiddenAct = "silu";
        public int maxPositionEmbeddings = 2048;
        public double rmsNormEps = 1e-6;
        public Integer padTokenId;
        public Integer bosTokenId = 1;
        public Integer eosTokenId = 2;
        public boolean tieWordEmbeddings;
        public double ropeTheta = 10000;
        public boolean attentionBias;
        public double embeddingMultiplier = 1.0;
        public double logitsScaling = 1.0;
        public double residualMultiplier = 1.0;
        public double attentionMultiplier = 1.0;
        public int numLocalExperts = 8;
        public int numExpertsPerTok = 2;
        public String positionEmbeddingType;
        public List<LayerType> layerTypes;
        public int mambaNHeads = 128;
        public int mambaNGroups = 1;
        public int mambaDState = 256;
        public Integer mambaDHead;
        public int mambaDConv = 4;
        public int mambaExpand = 2;
        public int mambaChunkSize = 256;
        public boolean mambaConvBias = true;
        public boolean mambaProjBias;
        public double timeStepLimitMin = 0.0;
        public double timeStepLimitMax = Double.POSITIVE_INFINITY;

        public GraniteConfig build() {
            return new GraniteConfig(this);
        }
    }
}
