package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The TorchScript mixer decode step against the same step written as NDArray ops, head by head (spec §5): the conv
 * window takes the new xBC, xBC' = silu(Σ_k window_k · w_k + bias), dt = clamp(softplus(dt_raw + dt_bias)),
 * s' = s·exp(dt·A) + (x·dt) ⊗ B (B of the head's group), y = C · s' + D·x, out = rmsnorm(y · silu(z)).
 */
class MambaDecodeKernelTest {
    private static final int NH = 6, HD = 4, DS = 5, K = 4;
    private static final double EPS = 1e-5;

    @ParameterizedTest
    @CsvSource({"1, 0, Infinity", "2, 0, Infinity", "3, 0.05, 0.4"})
    void matchesTheMixerStepAndUpdatesPooledStatesInPlace(int groups, double dtMin, double dtMax) {
        int b = 3, dInner = NH * HD, convDim = dInner + 2 * groups * DS;
        try (NDManager m = NDManager.newBaseManager(); MambaDecodeKernel kernel = new MambaDecodeKernel(m)) {
            m.getEngine().setRandomSeed(groups);
            // pools: the step sees views of their first b rows
            NDArray ssmPool = m.randomNormal(new Shape(b + 2, NH, HD, DS));
            NDArray convPool = m.randomNormal(new Shape(b + 2, K, convDim));
            NDArray s = ssmPool.get(new NDIndex(":" + b));
            NDArray conv = convPool.get(new NDIndex(":" + b));
            NDArray s0 = s.duplicate();
            NDArray conv0 = conv.duplicate();
            NDArray spareS = ssmPool.get(new NDIndex(b + ":")).duplicate();
            NDArray spareC = convPool.get(new NDIndex(b + ":")).duplicate();
            NDArray proj = m.randomNormal(new Shape(b, 1, dInner + convDim + NH));
            NDArray convW = m.randomNormal(new Shape(K, convDim)).mul(0.5f);
            NDArray convB = m.randomNormal(new Shape(convDim));
            NDArray dtBias = m.randomNormal(new Shape(NH));
            NDArray a = m.randomUniform(0.1f, 3f, new Shape(NH)).neg();
            NDArray d = m.randomNormal(new Shape(NH));

            NDArray out = kernel.mix(proj, conv, convW, convB, dtBias, a, d, s, EPS, dtMin, dtMax, groups);

            NDArray p = proj.reshape(b, dInner + convDim + NH);
            NDArray z = p.get(new NDIndex(":, :" + dInner));
            NDArray window = conv0.get(new NDIndex(":, 1:")).concat(p.get(new NDIndex(":, " + dInner + ":" + (dInner + convDim))).reshape(b, 1, convDim), 1);
            NDArray pre = window.mul(convW).sum(new int[] {1}).add(convB);
            NDArray xc = pre.mul(pre.getNDArrayInternal().sigmoid());
            NDArray dt = p.get(new NDIndex(":, " + (dInner + convDim) + ":")).add(dtBias).getNDArrayInternal().softPlus();
            if (dtMin > 0 || !Double.isInfinite(dtMax)) dt = dt.clip(dtMin, dtMax);
            NDArray da = dt.mul(a).exp(); // [b, NH]
            int hpg = NH / groups;
            NDArray[] yh = new NDArray[NH];
            NDArray[] sh = new NDArray[NH];
            for (int h = 0; h < NH; h++) {
                int g = h / hpg;
                NDArray x = xc.get(new NDIndex(":, " + h * HD + ":" + (h + 1) * HD)); // [b, HD]
                NDArray bg = xc.get(new NDIndex(":, " + (dInner + g * DS) + ":" + (dInner + (g + 1) * DS))).reshape(b, 1, DS);
                NDArray cg = xc.get(new NDIndex(":, " + (dInner + groups * DS + g * DS) + ":" + (dInner + groups * DS + (g + 1) * DS))).reshape(b, DS, 1);
                NDArray dth = dt.get(new NDIndex(":, " + h)).reshape(b, 1);
                sh[h] = s0.get(new NDIndex(":, " + h)).mul(da.get(new NDIndex(":, " + h)).reshape(b, 1, 1))
                        .add(x.mul(dth).reshape(b, HD, 1).mul(bg)); // [b, HD, DS]
                yh[h] = sh[h].matMul(cg).reshape(b, HD).add(x.mul(d.get(h)));
            }
            NDArray y = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(yh), 1); // [b, dInner]
            NDArray gz = y.mul(z.mul(z.getNDArrayInternal().sigmoid()));
            NDArray want = gz.div(gz.square().mean(new int[] {-1}, true).add((float) EPS).sqrt());
            NDArray wantS = ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(sh), 1); // [b, NH, HD, DS]

            assertEquals(new Shape(b, 1, dInner), out.getShape());
            assertSame(s.getManager(), out.getManager());
            assertClose(want.toFloatArray(), out.toFloatArray(), "output");
            assertClose(wantS.toFloatArray(), ssmPool.get(new NDIndex(":" + b)).toFloatArray(), "SSM pool rows (in place)");
            assertClose(window.toFloatArray(), convPool.get(new NDIndex(":" + b)).toFloatArray(), "conv pool rows (in place)");
            assertArrayEquals(spareS.toFloatArray(), ssmPool.get(new NDIndex(b + ":")).toFloatArray(), "SSM rows beyond the batch");
            assertArrayEquals(spareC.toFloatArray(), convPool.get(new NDIndex(b + ":")).toFloatArray(), "conv rows beyond the batch");
        }
    }

    @Test
    void refusesAStateItCannotUpdateInPlace() {
        try (NDManager m = NDManager.newBaseManager(); MambaDecodeKernel kernel = new MambaDecodeKernel(m)) {
            int convDim = NH * HD + 2 * DS;
            NDArray s = m.zeros(new Shape(2, NH, DS, HD)).transpose(0, 1, 3, 2); // [2, NH, HD, DS], not contiguous
            NDArray ones = m.ones(new Shape(NH));
            // torch's view() fails rather than updating a copy
            assertThrows(RuntimeException.class, () -> kernel.mix(m.ones(new Shape(2, 1, NH * HD + convDim + NH)),
                    m.zeros(new Shape(2, K, convDim)), m.ones(new Shape(K, convDim)), m.zeros(new Shape(convDim)), ones,
                    ones.neg(), ones, s, EPS, 0, Double.POSITIVE_INFINITY, 1));
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            float tol = 2e-5f * Math.max(1f, Math.abs(want[i]));
            if (Math.abs(want[i] - got[i]) > tol) {
                throw new AssertionError(what + "[" + i + "]: want " + want[i] + ", got " + got[i]);
            }
        }
    }
}
