package dev.quarry.engine.internal.sched;

import ai.djl.ndarray.NDArray;
import dev.quarry.engine.SamplingParams;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Picks the next token of each row: greedy (argmax) or seeded temperature/top-k/top-p sampling. Ids at
 * or above the codec's decodable vocabulary are never chosen; an optional allowed set (constrained
 * decoding) masks every other id. The random stream depends only on (seed, step), never on the
 * batch, so a sampled sequence is the same whatever runs beside it.
 */
public final class RowSampler {
    private final int decodable;

    public RowSampler(int decodableVocabSize) {
        this.decodable = decodableVocabSize;
    }

    /** The id chosen from one fp32 logits row. */
    public int pick(float[] logits, SamplingParams p, long seed, int step, BitSet allowed) {
        int n = Math.min(decodable, logits.length);
        if (p.isGreedy()) {
            int best = -1;
            float bv = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                if (allowed != null && !allowed.get(i)) continue;
                float v = logits[i];
                if (best < 0 || v > bv) { best = i; bv = v; }
            }
            if (best < 0) throw new IllegalStateException("no token is allowed");
            return best;
        }
        int[] ids = new int[n];
        double[] w = new double[n];
        int m = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (allowed != null && !allowed.get(i)) continue;
            if (Float.isNaN(logits[i])) continue;
            ids[m] = i;
            w[m] = logits[i] / (double) p.temperature();
            max = Math.max(max, w[m]);
            m++;
        }
        if (m == 0) throw new IllegalStateException("no token is allowed");
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) order[i] = i;
        final double[] wf = w;
        final int[] idf = ids;
        Arrays.sort(order, (a, b) -> wf[a] != wf[b] ? Double.compare(wf[b], wf[a]) : Integer.compare(idf[a], idf[b]));
        int keep = p.topK() > 0 ? Math.min(p.topK(), m) : m;
        double[] prob = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) { prob[i] = Math.exp(w[order[i]] - max); sum += prob[i]; }
        if (p.topP() < 1f) {
            double cum = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cum += prob[i] / sum;
                if (cum >= p.topP()) { cut = i + 1; break; }
            }
            keep = cut;
            sum = 0;
            for (int i = 0; i < keep; i++) sum += prob[i];
        }
        double u = new SplittableRandom(mix(seed, step)).nextDouble() * sum;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += prob[i];
            if (u < acc) return ids[order[i]];
        }
        return ids[order[keep - 1]];
    }

    /** Greedy over a whole batch on the NDArray (unconstrained rows): argmax of the decodable columns. */
    public int[] greedy(NDArray logits) {
        NDArray cut = logits.getShape().get(1) > decodable ? logits.get(":, :" + decodable) : logits;
        long[] a = cut.argMax(1).toType(ai.djl.ndarray.types.DataType.INT64, false).toLongArray();
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) out[i] = (int) a[i];
        return out;
    }

    static long mix(long seed, int step) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
