package dev.quarry.engine.internal.decode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.SamplingParams;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Picks the next token of every row from fp32 logits [B, V], batched: greedy (argmax) for rows with
 * temperature 0, otherwise temperature / top-k / top-p sampling by inverse CDF with one uniform number per
 * row drawn from (row seed, row step) only, so a row's tokens never depend on its batch-mates. Ids at or
 * above the decodable vocabulary size are never returned; an optional per-row allowed-token mask
 * restricts the choice further (constrained decoding).
 */
public final class Sampler {
    private final int decodable;

    public Sampler(int decodableVocabSize) {
        if (decodableVocabSize < 1) throw new IllegalArgumentException("decodable vocab size must be >= 1");
        this.decodable = decodableVocabSize;
    }

    /** The uniform number in [0, 1) used by a row at a step: a pure function of (seed, step). */
    public static double uniform(long seed, int step) {
        return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (step + 1L))).nextDouble();
    }

    /** Greedy ids of all rows. */
    public int[] greedy(NDArray logits) {
        return sample(logits, null, null, null);
    }

    /**
     * @param logits fp32 [B, V] (V may exceed the decodable size; the tail is ignored)
     * @param params per row, or null for all greedy
     * @param steps per row: how many tokens the row has generated so far (the randomness index)
     * @param allowed optional boolean [B, V'] with V' >= decodable size: true where a token may be chosen
     */
    public int[] sample(NDArray logits, List<SamplingParams> params, int[] steps, NDArray allowed) {
        long b = logits.getShape().get(0);
        int v = (int) Math.min(decodable, logits.getShape().get(1));
        try (NDManager m = logits.getManager().newSubManager()) {
            NDArray l = logits.get(":, :" + v);
            l.attach(m);
            l = l.toType(DataType.FLOAT32, false);
            if (allowed != null) {
                NDArray ok = allowed.get(":, :" + v);
                ok.attach(m);
                l = ai.djl.ndarray.NDArrays.where(ok, l, m.full(l.getShape(), Float.NEGATIVE_INFINITY));
            }
            int[] greedy = toInt(l.argMax(1));
            if (params == null || params.stream().allMatch(SamplingParams::isGreedy)) return greedy;
            float[] temp = new float[(int) b], topP = new float[(int) b], u = new float[(int) b];
            long[] topK = new long[(int) b];
            for (int r = 0; r < b; r++) {
                SamplingParams p = params.get(r);
                temp[r] = p.isGreedy() ? 1f : p.temperature();
                topP[r] = p.topP() <= 0 || p.topP() > 1 ? 1f : p.topP();
                topK[r] = p.topK() <= 0 ? v : Math.min(p.topK(), v);
                u[r] = (float) uniform(p.seed(), steps[r]);
            }
            NDArray scaled = l.div(m.create(temp, new Shape(b, 1)));
            NDArray order = scaled.argSort(1, false); // descending
            NDArray sorted = scaled.gather(order, 1);
            NDArray rank = m.arange(0, v, 1, DataType.INT64).reshape(1, v);
            NDArray keepK = rank.lt(m.create(topK, new Shape(b, 1)));
            NDArray masked = ai.djl.ndarray.NDArrays.where(keepK, sorted, m.full(sorted.getShape(), Float.NEGATIVE_INFINITY));
            NDArray probs = masked.softmax(1);
            NDArray before = probs.cumSum(1).sub(probs); // mass strictly before each rank
            NDArray keepP = before.lt(m.create(topP, new Shape(b, 1))).logicalAnd(keepK);
            NDArray kept = probs.mul(keepP.toType(DataType.FLOAT32, false));
            NDArray cdf = kept.cumSum(1).div(kept.sum(new int[] {1}, true));
            NDArray pick = cdf.lte(m.create(u, new Shape(b, 1))).logicalAnd(keepP)
                    .toType(DataType.INT64, false).sum(new int[] {1}, true); // ranks whose cdf <= u
            NDArray maxRank = keepP.toType(DataType.INT64, false).sum(new int[] {1}, true).sub(1);
            pick = pick.minimum(maxRank);
            int[] sampled = toInt(order.gather(pick, 1).reshape(b));
            for (int r = 0; r < b; r++) {
                if (params.get(r).isGreedy()) sampled[r] = greedy[r];
            }
            return sampled;
        }
    }

    private static int[] toInt(NDArray a) {
        long[] l = a.toType(DataType.INT64, false).toLongArray();
        int[] r = new int[l.length];
        for (int i = 0; i < l.length; i++) r[i] = (int) l[i];
        return r;
    }
}
