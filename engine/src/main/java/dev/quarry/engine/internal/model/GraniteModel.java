package dev.quarry.engine.internal.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.internal.MklCpuDispatch;
import dev.quarry.engine.internal.NativeMemoryAdvice;
import dev.quarry.engine.model.GraniteConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * GraniteMoeHybridForCausalLM forward pass on DJL NDArrays (spec §4–§6): embeddings × embedding_multiplier,
 * hybrid Mamba-2 / attention decoder layers with residual_multiplier, final RMSNorm, and logits of the last
 * position divided by logits_scaling (lm_head tied to the embedding when configured; stored once).
 *
 * <p>Not thread-safe: one step at a time per model. Every temporary of a step lives in a sub-manager of
 * the caller's step manager and is freed when the step ends; state arrays stay with their {@link ModelState}.
 */
public final class GraniteModel implements AutoCloseable {
    private final GraniteConfig config;
    /** The dtype arrays are computed in (see {@link #computeType}). */
    private final DataType dtype;
    /** The dtype the caller asked for. */
    private final DataType requested;
    private final NDManager manager;
    /** bf16 linear weights (requested dtype bf16), or null for fp32. */
    private final Bf16 bf;
    /** embed_tokens: [V, H] when untied; null when tied (then rows are looked up in lm_head's weight). */
    private final NDArray embed;
    /** lm_head; when tied its weight is the only copy of the embedding. */
    private final Linear lm;
    private final RmsNorm finalNorm;
    private final DecoderLayer[] layers;
    /** RoPE inverse frequencies: [hd/2] fp32, or null. */
    private final NDArray invFreq;
    /** A Mamba mixer's decode step in one native call; null without Mamba layers. */
    private final MambaDecodeKernel mambaKernel;
    /**
     * Decode steps since the last CPU prefill of at least {@link NativeMemoryAdvice#trimAfterTokens()} tokens, or -1
     * when none is pending: the {@link NativeMemoryAdvice#TRIM_AFTER_DECODE_STEPS}-th hands the heap's free pages
     * back. Not right after a long forward: a run of them (batched prefills, fork scoring) would fault its working
     * set in again each time (no-sharing classification of 500-token prompts: 76-78 vs 61 s), and so would the
     * admission prefills that continuous batching interleaves with a few decode steps. Only decoding that goes on
     * without another long prefill releases it (docs/benchmarks.md).
     */
    private int decodesSinceLongPrefill = -1;
    private final boolean hasMamba;
    private final float embMul;
    private final float logitsScaling;

    private GraniteModel(GraniteConfig c, WeightSource w, Device device, DataType requested) {
        if (requested != DataType.FLOAT32 && requested != DataType.BFLOAT16) {
            throw new IllegalArgumentException("model dtype must be f32 or bf16, got " + requested);
        }
        MklCpuDispatch.enable(); // before libtorch's first matmul: MKL picks its kernels once per process
        this.config = c;
        this.requested = requested;
        this.dtype = computeType(requested);
        this.manager = NDManager.newBaseManager(device);
        try {
            bf = requested == DataType.BFLOAT16 ? new Bf16(manager) : null;
            NDArray e = w.get(manager, "model.embed_tokens.weight", false);
            if (c.tieWordEmbeddings) {
                embed = null;
                lm = Linear.of(e, null, 1f, bf);
            } else {
                embed = e.duplicate(); // owned fp32 copy (the source may be a mapped file)
                e.close();
                lm = Linear.of(w.get(manager, "lm_head.weight", false), null, 1f, bf);
            }
            finalNorm = new RmsNorm(w.get(manager, "model.norm.weight", false), c.rmsNormEps);
            mambaKernel = c.mambaLayerCount() > 0 ? new MambaDecodeKernel(manager) : null; // closed in close()
            layers = new DecoderLayer[c.numHiddenLayers];
            NDArray eps = manager.create((float) c.rmsNormEps);
            for (int i = 0; i < layers.length; i++) layers[i] = new DecoderLayer(c, i, manager, w, dtype, bf, eps);
            if (c.useRope()) {
                int hd = c.headDim();
                NDArray j = manager.arange(0, hd / 2, 1, DataType.FLOAT32);
                invFreq = manager.create((float) c.ropeTheta).pow(j.mul(-2.0f / hd));
            } else {
                invFreq = null;
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        hasMamba = c.mambaLayerCount() > 0;
        embMul = (float) c.embeddingMultiplier;
        logitsScaling = (float) c.logitsScaling;
    }

    /** Builds the model from named tensors (HF names). */
    public static GraniteModel load(GraniteConfig config, WeightSource weights, Device device, DataType dtype) {
        return new GraniteModel(config, weights, device, dtype);
    }

    /**
     * Loads a Hugging Face checkpoint directory (config.json + *.safetensors, F32/BF16/F16, any sharding)
     * with the model's own reader; names and shapes are checked against the config first.
     */
    public static GraniteModel load(java.nio.file.Path dir, Device device, DataType dtype) throws java.io.IOException {
        GraniteConfig c = GraniteConfig.load(dir.resolve("config.json"));
        GraniteModel model;
        try (SafetensorsWeights w = new SafetensorsWeights(dir)) {
            w.validate(SyntheticWeights.shapes(c), dir);
            model = new GraniteModel(c, w, device, dtype);
        }
        NativeMemoryAdvice.trimHeap(); // the load's freed temporaries stay resident otherwise
        return model;
    }

    /**
     * log softmax of {@code logits} [N, V'] over their first {@code vocab} columns (fp32): the embedding may be
     * padded past the tokenizer's vocabulary (real Granite: 100352 rows, 100284 tokens), and no probability may go
     * to an id the tokenizer cannot decode. [N, vocab], attached to the logits' manager.
     */
    public static NDArray logProbs(NDArray logits, int vocab) {
        return (vocab < logits.getShape().get(1) ? logits.get(":, :" + vocab) : logits).logSoftmax(1);
    }

    public GraniteConfig config() { return config; }

    /** The dtype activations are held in (fp32; see {@link #computeType}). */
    public DataType dtype() { return dtype; }

    /** The dtype asked for at load. */
    public DataType requestedDtype() { return requested; }

    /**
     * The activation dtype for a requested dtype: always fp32. With bf16 requested, the linear weights (and the
     * tied embedding / lm_head) are held in bf16 and every linear is a bf16 matmul whose inputs are rounded to
     * bf16 and whose output is widened to fp32 at once (autocast style, see {@link Bf16}); the residual stream,
     * norms, SSM, softmaxes and logits stay fp32.
     */
    public static DataType computeType(DataType requested) {
        return DataType.FLOAT32;
    }

    /** Fresh (zero) state for {@code batch} sequences. */
    public ModelState emptyState(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        return ModelState.empty(config, dtype, manager, batch);
    }

    /**
     * Prefills ragged prompts; row r continues row r of {@code state}. Returns fp32 logits [B, V] at each
     * row's last token (owned by {@code step}). Exact: equals running each row alone from its state.
     */
    public NDArray prefill(NDManager step, int[][] ids, ModelState st) {
        return prefill(step, ids, st, false);
    }

    /**
     * Teacher-forced scoring (label likelihoods): row r feeds {@code ids[r]} after row r of {@code st}, exactly as
     * {@link #prefill} does, and returns per row {@code Σ_j log softmax(logits after ids[r][j])[targets[r][j]]}, the
     * softmax taken in fp32 over the first {@code vocab} logits. The state moves on as in a prefill (callers score
     * on forks they then drop). The [positions, V] logits are never held at once: they are computed
     * {@link #scorePositionsPerChunk} positions at a time (128 forks x 9 label tokens would be 460 MB of fp32
     * logits), each chunk reduced to the target's log-probability before the next.
     */
    public double[] scoreTargets(NDManager step, int[][] ids, int[][] targets, ModelState st, int vocab) {
        int b = checkBatch(ids.length, st);
        int t = checkTargets(ids, targets, b, vocab);
        try (NDManager sub = step.newSubManager()) {
            return pick(sub, prefill(sub, ids, st, true), ids, targets, t, vocab);
        }
    }

    /**
     * {@link #scoreTargets} of forks without copying state: fork i ({@code ids[i]}, {@code targets[i]}) continues
     * row {@code rows[i / forks]} of {@code st}, which is left as it was. Each row's conv history, SSM state and
     * K/V are read once for all its forks (the forked states are never formed), so scoring F labels costs about
     * a prefill of their tokens, not F copies of the state. Forks of very different lengths go in passes by
     * length ({@link #forkPasses}), so short labels are not padded to the longest. Forks longer than one SSD chunk
     * are scored on copies of their rows.
     */
    public double[] scoreForks(NDManager step, ModelState st, int[] rows, int forks, int[][] ids, int[][] targets, int vocab) {
        if (forks < 1 || ids.length != (long) rows.length * forks) {
            throw new IllegalArgumentException(ids.length + " forks for " + rows.length + " rows x " + forks);
        }
        int b = ids.length;
        int t = checkTargets(ids, targets, b, vocab);
        if (hasMamba && t > config.mambaChunkSize) {
            // forks longer than one chunk are scored on copies of their rows; the others here, the long ones idle
            int[][] shortIds = ids.clone();
            int[][] shortTargets = targets.clone();
            List<Integer> longForks = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                if (ids[i].length > config.mambaChunkSize) {
                    longForks.add(i);
                    shortIds[i] = new int[] {ids[i][0]};
                    shortTargets[i] = new int[] {targets[i][0]};
                }
            }
            double[] sums = scoreForks(step, st, rows, forks, shortIds, shortTargets, vocab);
            int[] of = new int[longForks.size()];
            int[][] longIds = new int[of.length][];
            int[][] longTargets = new int[of.length][];
            for (int j = 0; j < of.length; j++) {
                int i = longForks.get(j);
                of[j] = rows[i / forks];
                longIds[j] = ids[i];
                longTargets[j] = targets[i];
            }
            try (ModelState copies = st.select(of)) {
                double[] longSums = scoreTargets(step, longIds, longTargets, copies, vocab);
                for (int j = 0; j < of.length; j++) sums[longForks.get(j)] = longSums[j];
            }
            return sums;
        }
        boolean identity = rows.length == st.batchSize();
        for (int i = 0; identity && i < rows.length; i++) identity = rows[i] == i;
        ModelState src = identity ? st : st.select(rows);
        try {
            List<int[]> passes = forkPasses(ids, rows.length, forks);
            if (passes.size() == 1) return scoreForkPass(step, src, forks, ids, targets, t, vocab);
            double[] sums = new double[b];
            for (int[] range : passes) { // forks of lengths range[0]..range[1], every row of src, idle forks where short
                int f = forksInRange(ids, rows.length, forks, range);
                int[][] pIds = new int[rows.length * f][];
                int[][] pTargets = new int[rows.length * f][];
                int[] from = new int[rows.length * f];
                java.util.Arrays.fill(from, -1);
                for (int r = 0; r < rows.length; r++) {
                    int j = r * f;
                    for (int i = r * forks; i < (r + 1) * forks; i++) {
                        if (inRange(ids[i], range)) {
                            pIds[j] = ids[i];
                            pTargets[j] = targets[i];
                            from[j++] = i;
                        }
                    }
                    for (; j < (r + 1) * f; j++) {
                        pIds[j] = IDLE_FORK;
                        pTargets[j] = IDLE_FORK;
                    }
                }
                double[] got = scoreForkPass(step, src, f, pIds, pTargets, range[1], vocab);
                for (int j = 0; j < from.length; j++) if (from[j] >= 0) sums[from[j]] = got[j];
            }
            return sums;
        } finally {
            if (src != st) src.close();
        }
    }

    /** A fork that fills a row's place in a pass where it has fewer forks: one token, its result dropped. */
    private static final int[] IDLE_FORK = {0};

    /**
     * Fork tokens a pass of its own must save before fork scoring splits into passes by fork length: a pass's
     * fixed cost (one forward over every layer, ~3000 native ops) is worth about this many fork tokens of f32
     * compute on the 2-core CPU (~5 ms each at h-350m).
     */
    static final int SCORE_PASS_COST_TOKENS = 32;

    /**
     * How fork scoring splits {@code rows x forks} forks (fork i of row i / forks) into passes by fed length,
     * each pass left-padded to its longest fork and holding every row with as many forks as the row with the most
     * in the pass: ranges {@code [shortest, longest]} of lengths, ascending. One pass pads every fork to the
     * longest (4 labels of 5-9 tokens: 22 % of the rows padding); the ranges minimise padded rows plus {@link
     * #SCORE_PASS_COST_TOKENS} per pass (dynamic programme over the distinct lengths, a handful in practice).
     */
    static List<int[]> forkPasses(int[][] ids, int rows, int forks) {
        int[] lens = java.util.Arrays.stream(ids).mapToInt(a -> a.length).distinct().sorted().toArray();
        int m = lens.length;
        long[] best = new long[m + 1]; // best[j]: cost of the passes covering lens[0..j-1]
        int[] cut = new int[m + 1];
        for (int j = 1; j <= m; j++) {
            best[j] = Long.MAX_VALUE;
            for (int i = 0; i < j; i++) { // one pass over lens[i..j-1]
                int[] range = {lens[i], lens[j - 1]};
                long cost = best[i] + (long) rows * forksInRange(ids, rows, forks, range) * range[1] + SCORE_PASS_COST_TOKENS;
                if (cost < best[j]) {
                    best[j] = cost;
                    cut[j] = i;
                }
            }
        }
        List<int[]> passes = new ArrayList<>();
        for (int j = m; j > 0; j = cut[j]) passes.add(0, new int[] {lens[cut[j]], lens[j - 1]});
        return passes;
    }

    /** Whether a fork's fed length is in {@code range} [shortest, longest]. */
    private static boolean inRange(int[] fork, int[] range) {
        return fork.length >= range[0] && fork.length <= range[1];
    }

    /** The most forks any row has with a fed length in {@code range} (inclusive). */
    private static int forksInRange(int[][] ids, int rows, int forks, int[] range) {
        int most = 0;
        for (int r = 0; r < rows; r++) {
            int n = 0;
            for (int i = r * forks; i < (r + 1) * forks; i++) {
                if (inRange(ids[i], range)) n++;
            }
            most = Math.max(most, n);
        }
        return most;
    }

    /** One fork-scoring pass: fork i continues row {@code i / forks} of {@code src}; rows left-padded to {@code t}. */
    private double[] scoreForkPass(NDManager step, ModelState src, int forks, int[][] ids, int[][] targets, int t, int vocab) {
        int b = ids.length;
        try (NDManager sub = step.newSubManager()) {
            int k = config.mambaDConv;
            long[] tokens = new long[b * t];
            boolean[] mask = new boolean[b * t];
            float[] pos = new float[b * t];
            long[] convIdx = new long[b * (t + k - 1)];
            layout(ids, t, i -> src.lengths[i / forks], tokens, mask, pos, convIdx);
            return pick(sub, forkHidden(sub, tokens, mask, pos, convIdx, b, t, forks, src), ids, targets, t, vocab);
        }
    }

    /** Checks one target per fed token, targets inside the vocabulary; returns the longest row. */
    private int checkTargets(int[][] ids, int[][] targets, int b, int vocab) {
        if (targets.length != b) throw new IllegalArgumentException("got " + targets.length + " target rows for " + b + " rows");
        if (vocab < 1 || vocab > config.vocabSize) throw new IllegalArgumentException("vocab " + vocab + " outside [1, " + config.vocabSize + "]");
        int t = 0;
        for (int r = 0; r < b; r++) {
            if (targets[r] == null || ids[r] == null || ids[r].length == 0 || targets[r].length != ids[r].length) {
                throw new IllegalArgumentException("row " + r + ": need at least one fed token and one target per fed token");
            }
            for (int id : targets[r]) {
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("row " + r + ": target id " + id + " outside [0, " + vocab + ")");
            }
            t = Math.max(t, ids[r].length);
        }
        return t;
    }

    /**
     * Per row, the summed log-probabilities of its targets from final-normed hidden states {@code h} [B, T, H]
     * (rows left-padded to T); the logits are formed {@link #scorePositionsPerChunk} positions at a time.
     */
    private double[] pick(NDManager sub, NDArray h, int[][] ids, int[][] targets, int t, int vocab) {
        int b = ids.length;
        int positions = 0;
        for (int[] r : ids) positions += r.length;
        long[] at = new long[positions]; // flat [B*T] index of each fed token, row by row
        long[] target = new long[positions];
        int n = 0;
        for (int r = 0; r < b; r++) {
            int pad = t - ids[r].length;
            for (int j = 0; j < ids[r].length; j++) {
                at[n] = (long) r * t + pad + j;
                target[n++] = targets[r][j];
            }
        }
        NDArray fed = h.reshape((long) b * t, config.hiddenSize).get(new NDIndex("{}", sub.create(at))); // [P, H]
        int chunk = scorePositionsPerChunk();
        float[] picked = new float[positions];
        for (int c0 = 0; c0 < positions; c0 += chunk) {
            int c1 = Math.min(positions, c0 + chunk);
            try (NDManager cm = sub.newSubManager()) {
                NDArray rows = fed.get(c0 + ":" + c1);
                rows.attach(cm);
                NDArray logits = logits(rows);
                NDArray logp = logProbs(logits, vocab);
                long[] tg = java.util.Arrays.copyOfRange(target, c0, c1);
                float[] v = logp.gather(cm.create(tg, new Shape(c1 - c0, 1)), 1).toFloatArray();
                System.arraycopy(v, 0, picked, c0, v.length);
            }
        }
        double[] sums = new double[b];
        n = 0;
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < ids[r].length; j++) sums[r] += picked[n++];
        }
        return sums;
    }

    /** fp32 logits [N, V] of final-normed rows [N, H]: lm_head, then / logits_scaling (in place: [N, V] is large). */
    private NDArray logits(NDArray normed) {
        return lm.forward(normed).toType(DataType.FLOAT32, false).divi(logitsScaling);
    }

    /** Positions whose fp32 logits one scoring chunk holds: about {@link #SCORE_CHUNK_BYTES}, at least 1. */
    int scorePositionsPerChunk() {
        return (int) Math.max(1, Math.min(4096, SCORE_CHUNK_BYTES / (4L * config.vocabSize)));
    }

    /**
     * Bytes of one chunk of scoring logits: below glibc's 32 MB mmap ceiling, so the chunks reuse heap memory
     * instead of page-faulting fresh pages in (and still 60+ rows per lm_head GEMM at a 100k vocabulary).
     */
    static final long SCORE_CHUNK_BYTES = 24L << 20;

    private NDArray prefill(NDManager step, int[][] ids, ModelState st, boolean hidden) {
        int b = checkBatch(ids.length, st);
        int t = 0;
        for (int r = 0; r < b; r++) {
            if (ids[r] == null || ids[r].length == 0) throw new IllegalArgumentException("prefill row " + r + " has no tokens");
            t = Math.max(t, ids[r].length);
        }
        int k = config.mambaDConv;
        long[] tokens = new long[b * t];
        boolean[] mask = new boolean[b * t];
        float[] pos = new float[b * t];
        long[] convIdx = new long[b * (t + k - 1)];
        layout(ids, t, r -> st.lengths[r], tokens, mask, pos, convIdx);
        NDArray logits = run(step, tokens, mask, pos, convIdx, b, t, false, hidden, st);
        for (int r = 0; r < b; r++) st.lengths[r] += ids[r].length;
        return logits;
    }

    /**
     * Left-padded [B, T] layout of ragged rows: token ids, real-token mask, positions (continuing
     * {@code length(r)}), and the conv gather index that moves each row's K-1 cached inputs right before its
     * first real token.
     */
    private void layout(int[][] ids, int t, java.util.function.IntUnaryOperator length, long[] tokens, boolean[] mask,
            float[] pos, long[] convIdx) {
        int k = config.mambaDConv;
        for (int r = 0; r < ids.length; r++) {
            int pad = t - ids[r].length;
            int start = length.applyAsInt(r);
            for (int j = 0; j < ids[r].length; j++) {
                int id = checkId(ids[r][j], r);
                tokens[r * t + pad + j] = id;
                mask[r * t + pad + j] = true;
                pos[r * t + pad + j] = start + j;
            }
            for (int j = 0; j < t + k - 1; j++) {
                convIdx[r * (t + k - 1) + j] = j < pad + k - 1 ? Math.max(j - pad, 0) : j;
            }
        }
    }

    /** One new token per row; returns fp32 logits [B, V] (owned by {@code step}). */
    public NDArray decode(NDManager step, int[] ids, ModelState st) {
        int b = checkBatch(ids.length, st);
        long[] tokens = new long[b];
        boolean[] mask = new boolean[b];
        float[] pos = new float[b];
        for (int r = 0; r < b; r++) {
            tokens[r] = checkId(ids[r], r);
            mask[r] = true;
            pos[r] = st.lengths[r];
        }
        NDArray logits = run(step, tokens, mask, pos, null, b, 1, true, false, st);
        for (int r = 0; r < b; r++) st.lengths[r] += 1;
        return logits;
    }

    /** One forward step; fp32 logits [B, V] at each row's last position, or with {@code hidden} the final-normed [B, T, H]. */
    private NDArray run(NDManager step, long[] tokens, boolean[] maskArr, float[] pos, long[] convIdx,
            int b, int t, boolean decode, boolean hidden, ModelState st) {
        if (st.isClosed()) throw new IllegalStateException("state is closed");
        if (decode && decodesSinceLongPrefill >= 0 && ++decodesSinceLongPrefill >= NativeMemoryAdvice.TRIM_AFTER_DECODE_STEPS) {
            decodesSinceLongPrefill = -1;
            NativeMemoryAdvice.trimHeap();
        }
        if (decode && st.sharedMamba) throw new IllegalStateException("rows forked for a prefill (forkForPrefill) must be prefilled before decoding");
        st.ensureKvRoom(t);
        DecoderLayer.Step ls = new DecoderLayer.Step();
        NDArray logits;
        try (NDManager sub = step.newSubManager()) {
            if (bf != null) bf.beginStep(sub);
            st.keyMask.tempAttach(sub);
            NDArray mask = sub.create(maskArr, new Shape(b, t));
            int start = st.kvLen;
            int total = start + t;
            st.keyMask.set(new NDIndex(":, " + start + ":" + total), mask);
            Attention.StepContext ctx = new Attention.StepContext();
            ctx.start = start;
            ctx.fill = sub.create(Attention.MASK_FILL);
            NDArray keyOk = st.keyMask.get(":, :" + total).reshape(b, 1, 1, 1, total);
            if (decode) {
                ctx.allowed = keyOk;
                ls.mambaKernel = mambaKernel;
            } else {
                NDArray row = sub.arange(0, t, 1, DataType.INT64).reshape(t, 1).add(start);
                NDArray col = sub.arange(0, total, 1, DataType.INT64).reshape(1, total);
                ctx.allowed = keyOk.logicalAnd(col.lte(row));
                mambaInputs(sub, mask, convIdx, b, t, ls);
            }
            ropeTables(sub, pos, b, t, ctx);
            ls.attn = ctx;
            NDArray h = forwardLayers(sub, embedRows(sub, tokens, b, t), decode, ls, st);
            if (hidden) {
                logits = finalNorm.forward(h);
            } else {
                NDArray last = t == 1 ? h.reshape(b, config.hiddenSize) : h.get(":, -1, :");
                logits = logits(finalNorm.forward(last));
            }
            logits.attach(step);
            st.kvLen = total;
            st.sharedMamba = false; // a prefill replaced every Mamba layer's conv and SSM arrays
        } finally {
            if (bf != null) bf.endStep();
        }
        long trimAt = NativeMemoryAdvice.trimAfterTokens();
        if (!decode && trimAt > 0 && (long) b * t >= trimAt && !manager.getDevice().isGpu()) {
            decodesSinceLongPrefill = 0; // its freed temporaries would stay resident through the decode
        }
        return logits;
    }

    /**
     * Final-normed hidden states [B, T, H] of fork scoring (see {@link #scoreForks}): rows grouped {@code forks}
     * per row of {@code src}, which nothing here writes.
     */
    private NDArray forkHidden(NDManager sub, long[] tokens, boolean[] maskArr, float[] pos, long[] convIdx,
            int b, int t, int forks, ModelState src) {
        if (src.isClosed()) throw new IllegalStateException("state is closed");
        DecoderLayer.Step ls = new DecoderLayer.Step();
        ls.forks = forks;
        try {
            if (bf != null) bf.beginStep(sub);
            src.keyMask.tempAttach(sub);
            NDArray mask = sub.create(maskArr, new Shape(b, t));
            Attention.StepContext ctx = new Attention.StepContext();
            ctx.fill = sub.create(Attention.MASK_FILL);
            NDArray row = sub.arange(0, t, 1, DataType.INT64).reshape(t, 1);
            NDArray col = sub.arange(0, t, 1, DataType.INT64).reshape(1, t);
            NDArray own = mask.reshape(b, 1, 1, 1, t).logicalAnd(col.lte(row)); // [B, 1, 1, T, T]
            int s = src.kvLen;
            if (s > 0) { // [cached | own] keys: the row's cached keys for every fork of it
                NDArray cached = src.keyMask.get(":, :" + s).repeat(0, forks).reshape(b, 1, 1, 1, s)
                        .broadcast(new Shape(b, 1, 1, t, s));
                ctx.allowed = cached.concat(own, 4);
            } else {
                ctx.allowed = own;
            }
            mambaInputs(sub, mask, convIdx, b, t, ls);
            ropeTables(sub, pos, b, t, ctx);
            ls.attn = ctx;
            NDArray h = forwardLayers(sub, embedRows(sub, tokens, b, t), false, ls, src);
            if (!ls.scope.adopted.isEmpty()) throw new IllegalStateException("fork scoring replaced state arrays");
            return finalNorm.forward(h);
        } finally {
            if (bf != null) bf.endStep();
        }
    }

    /**
     * The Mamba inputs of a multi-token step into {@code ls}: the real-token mask as [B, T, 1] and the conv gather
     * index {@code convIdx} (see {@link #layout}) as [B, T+K-1, conv_dim].
     */
    private void mambaInputs(NDManager sub, NDArray mask, long[] convIdx, int b, int t, DecoderLayer.Step ls) {
        ls.mask3 = mask.expandDims(2);
        int k = config.mambaDConv;
        ls.convIdx = sub.create(convIdx, new Shape(b, t + k - 1, 1)).broadcast(new Shape(b, t + k - 1, config.mambaConvDim()));
    }

    /** RoPE cos/sin tables [B, 1, T, hd] for positions {@code pos} into {@code ctx} (nothing without RoPE). */
    private void ropeTables(NDManager sub, float[] pos, int b, int t, Attention.StepContext ctx) {
        if (invFreq == null) return;
        NDArray angle = sub.create(pos, new Shape(b, t, 1)).mul(invFreq);
        NDArray emb = angle.concat(angle, 2);
        ctx.cos = emb.cos().toType(dtype, false).expandDims(1);
        ctx.sin = emb.sin().toType(dtype, false).expandDims(1);
    }

    /** Token embeddings × embedding_multiplier: [B, T, H] fp32, contiguous. */
    private NDArray embedRows(NDManager sub, long[] tokens, int b, int t) {
        NDArray h;
        if (embed != null) {
            NDArray idx = sub.create(tokens, new Shape((long) b * t, 1));
            h = embed.gather(idx.broadcast(new Shape((long) b * t, config.hiddenSize)), 0);
        } else {
            h = lm.weightRows(sub.create(tokens), sub);
        }
        h.attach(sub);
        return h.mul(embMul).reshape(b, t, config.hiddenSize);
    }

    /** The decoder layers over h; each layer's temporaries live in (and die with) its own manager. */
    private NDArray forwardLayers(NDManager sub, NDArray h, boolean decode, DecoderLayer.Step ls, ModelState st) {
        for (int i = 0; i < layers.length; i++) {
            NDArray out;
            int adoptedBefore = ls.scope.adopted.size();
            try (NDManager lm = sub.newSubManager()) {
                h.tempAttach(lm);
                for (NDArray a : st.layerArrays(i)) a.tempAttach(lm);
                out = layers[i].forward(h, decode, ls, st);
                out.attach(sub);
                for (NDArray a : ls.scope.adopted.subList(adoptedBefore, ls.scope.adopted.size())) a.attach(st.manager);
            }
            h.close();
            h = out;
            // the arrays this layer's new conv / SSM state replaced are dead now: freed here, not at the step's end
            // (a prefill would otherwise hold the old and the new state of every layer at once)
            for (NDArray a : ls.scope.retired) a.close();
            ls.scope.retired.clear();
            st.commitLayer(i); // pooled states: the replaced arrays are copied into their slots
        }
        return h;
    }

    private int checkBatch(int n, ModelState st) {
        if (n != st.batchSize()) {
            throw new IllegalArgumentException("got " + n + " rows for a state of batch " + st.batchSize());
        }
        return n;
    }

    private int checkId(int id, int row) {
        if (id < 0 || id >= config.vocabSize) {
            throw new IllegalArgumentException("row " + row + ": token id " + id + " outside [0, " + config.vocabSize + ")");
        }
        return id;
    }

    /** Upper estimate of one sequence's state bytes once it holds {@code tokens} tokens (K/V without spare capacity). */
    public long stateBytes(int tokens) {
        long b = tokens; // key mask
        int bytes = dtype.getNumOfBytes();
        for (int i = 0; i < config.numHiddenLayers; i++) {
            if (config.layerType(i) == GraniteConfig.LayerType.MAMBA) {
                b += (long) config.mambaDConv * config.mambaConvDim() * bytes
                        + 4L * config.mambaNHeads * config.mambaDHead * config.mambaDState;
            } else {
                b += 2L * config.numKeyValueHeads * config.headDim() * bytes * tokens;
            }
        }
        return b;
    }

    /**
     * Upper estimate of the transient bytes {@link #scoreForks} needs for one fork of {@code forkTokens} tokens
     * whose row holds {@code contextTokens}: a copy of the row's state when the fork is longer than one SSD chunk
     * (scored on copies), else the fork's share of a layer's temporaries (projections, MLP, conv history,
     * attention scores over the context; fp32), which die with the layer.
     */
    public long forkBytes(int forkTokens, int contextTokens) {
        if (hasMamba && forkTokens > config.mambaChunkSize) return stateBytes(contextTokens + forkTokens);
        long width = Math.max(hasMamba ? config.mambaInProjSize() + 2L * config.mambaConvDim() : 0,
                (long) (config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim());
        long perToken = width + 4L * config.sharedIntermediateSize + 6L * config.hiddenSize
                + 2L * config.numAttentionHeads * (contextTokens + forkTokens);
        long history = hasMamba ? (long) config.mambaDConv * config.mambaConvDim() : 0;
        return 4L * (perToken * forkTokens + history);
    }

    /** Bytes of the checkpoint weights as held by this model (each tensor once; linears in bf16 when requested). */
    public long weightBytes() {
        return weightBytes(config, requested);
    }

    /** {@link #weightBytes()} of a model of {@code c} loaded with {@code requested}, without loading it. */
    public static long weightBytes(GraniteConfig c, DataType requested) {
        long n = 0;
        for (var en : SyntheticWeights.shapes(c).entrySet()) {
            long e = 1;
            for (long d : en.getValue()) e *= d;
            n += e * (requested == DataType.BFLOAT16 && heldInBf16(c, en.getKey()) ? 2 : 4);
        }
        return n;
    }

    /** Whether a checkpoint tensor is held in bf16 by a bf16 model: the linear weights and the tied embedding. */
    static boolean heldInBf16(GraniteConfig c, String name) {
        if (name.equals("model.embed_tokens.weight")) return c.tieWordEmbeddings;
        return name.equals("lm_head.weight") || name.endsWith("_proj.weight") || name.contains(".shared_mlp.")
                || name.endsWith("block_sparse_moe.input_linear.weight") || name.endsWith("block_sparse_moe.output_linear.weight");
    }

    NDManager manager() { return manager; }

    @Override
    public void close() {
        if (mambaKernel != null) mambaKernel.close();
        manager.close();
    }
}
