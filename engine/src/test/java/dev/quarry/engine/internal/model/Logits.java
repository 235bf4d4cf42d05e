package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;

/** Logit comparisons shared by the model tests (and MklCpuDispatchTest). */
public final class Logits {
    private Logits() {}

    /** Last-position logits of {@code ids} prefilled in one step into a fresh single-row state. */
    static float[] prefillAlone(GraniteModel model, NDManager root, int[] ids) {
        try (ModelState st = model.emptyState(1); NDManager step = root.newSubManager()) {
            return model.prefill(step, new int[][] {ids}, st).toFloatArray();
        }
    }

    /** Asserts equal lengths, finite {@code got} and max |want - got| <= tol * max(1, max |want|). */
    public static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double maxAbs = 0, scale = 0;
        for (int i = 0; i < want.length; i++) {
            assertTrue(Float.isFinite(got[i]), what + ": non-finite logit at " + i);
            maxAbs = Math.max(maxAbs, Math.abs(want[i] - got[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        assertTrue(maxAbs <= tol * Math.max(1, scale), what + ": max abs diff " + maxAbs + " (scale " + scale + ")");
    }

    /** Index of the largest logit (the first of equals). */
    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) best = i;
        }
        return best;
    }
}
