package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.quarry.engine.FinishReason;
import dev.quarry.engine.SamplingParams;
import dev.quarry.engine.internal.decode.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Simple static-batch generation (goldens, invariants, the single-sequence benchmark, the CLI fallback):
 * one left-padded prefill of all prompts, then one decode step per token for all rows until every row
 * has stopped (eos unless ignored, a stop string, or its max new tokens).
 */
public final class Generator {
    private final GraniteModel model;
    private final Sampler sampler;
    private final int eos;

    public Generator(GraniteModel model, Sampler sampler, int eosTokenId) {
        this.model = model;
        this.sampler = sampler;
        this.eos = eosTokenId;
    }

    /** One row's result. */
    public static final class Output {
        public final int[] ids;
        /** Logits row that chose the last returned token (null unless requested or nothing was generated). */
        public final float[] lastLogits;
        public final FinishReason finish;
        /** Seconds spent in prefill and decode for the whole batch (same for all rows). */
        public final double prefillSeconds, decodeSeconds;

        Output(int[] ids, float[] lastLogits, FinishReason finish, double prefillSeconds, double decodeSeconds) {
            this.ids = ids;
            this.lastLogits = lastLogits;
            this.finish = finish;
            this.prefillSeconds = prefillSeconds;
            this.decodeSeconds = decodeSeconds;
        }
    }

    /**
     * @param decoder turns ids into text for stop strings (may be null when no row has stop strings)
     */
    public List<Output> generate(List<int[]> prompts, List<SamplingParams> params, boolean keepLogits,
            Function<int[], String> decoder) {
        int b = prompts.size();
        if (params.size() != b) throw new IllegalArgumentException("one SamplingParams per prompt");
        List<List<Integer>> out = new ArrayList<>();
        float[][] last = new float[b][];
        FinishReason[] finish = new FinishReason[b];
        int[] steps = new int[b];
        int live = 0;
        for (int r = 0; r < b; r++) {
            out.add(new ArrayList<>());
            if (params.get(r).maxNewTokens() <= 0) finish[r] = FinishReason.LENGTH; else live++;
        }
        long t0 = System.nanoTime();
        long tPrefill = t0;
        try (NDManager root = model.manager().newSubManager(); ModelState st = model.emptyState(b)) {
            NDManager step = root.newSubManager();
            try {
                NDArray logits = model.prefill(step, prompts.toArray(new int[0][]), st);
                tPrefill = System.nanoTime();
                int[] next = new int[b];
                while (live > 0) {
                    int[] picked = sampler.sample(logits, params, steps, null);
                    float[][] rows = keepLogits ? toRows(logits) : null;
                    for (int r = 0; r < b; r++) {
                        if (finish[r] != null) continue;
                        SamplingParams p = params.get(r);
                        int id = picked[r];
                        out.get(r).add(id);
                        steps[r]++;
                        next[r] = id;
                        if (rows != null) last[r] = rows[r];
                        if (id == eos && !p.ignoreEos()) finish[r] = FinishReason.EOS;
                        else if (!p.stopStrings().isEmpty() && decoder != null && hasStop(decoder, out.get(r), p)) finish[r] = FinishReason.STOP_STRING;
                        else if (steps[r] >= p.maxNewTokens()) finish[r] = FinishReason.LENGTH;
                        if (finish[r] != null) live--;
                    }
                    if (live == 0) break;
                    step.close();
                    step = root.newSubManager();
                    logits = model.decode(step, next, st);
                }
            } finally {
                step.close();
            }
        }
        double pre = (tPrefill - t0) / 1e9, dec = (System.nanoTime() - tPrefill) / 1e9;
        List<Output> res = new ArrayList<>();
        for (int r = 0; r < b; r++) {
            int[] ids = out.get(r).stream().mapToInt(Integer::intValue).toArray();
            res.add(new Output(ids, last[r], finish[r], pre, dec));
        }
        return res;
    }

    private static boolean hasStop(Function<int[], String> decoder, List<Integer> ids, SamplingParams p) {
        String text = decoder.apply(ids.stream().mapToInt(Integer::intValue).toArray());
        for (String s : p.stopStrings()) if (!s.isEmpty() && text.contains(s)) return true;
        return false;
    }

    private static float[][] toRows(NDArray logits) {
        int b = (int) logits.getShape().get(0);
        int v = (int) logits.getShape().get(1);
        float[] all = logits.toFloatArray();
        float[][] rows = new float[b][v];
        for (int r = 0; r < b; r++) System.arraycopy(all, r * v, rows[r], 0, v);
        return rows;
    }
}
