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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TorchScript decode recurrence against the same step written as NDArray ops (spec §5): s' = s·exp(dt·A) +
 * (x·dt) ⊗ B per head (B of the head's group), y = C · s' + D·x.
 */
class MambaDecodeKernelTest {
    private static final int NH = 6, HD = 4, DS = 5;

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matchesTheRecurrenceAndUpdatesAPooledStateInPlace(int groups) {
        int b = 3;
        try (NDManager m = NDManager.newBaseManager(); MambaDecodeKernel kernel = new MambaDecodeKernel(m)) {
            m.getEngine().setRandomSeed(groups);
            NDArray storage = m.randomNormal(new Shape(b + 2, NH, HD, DS)); // a pool: the step sees its first b rows
            NDArray s = storage.get(new NDIndex(":" + b));
            NDArray before = s.duplicate();
            NDArray dt = m.randomUniform(0.01f, 1f, new Shape(b, NH));
            NDArray a = m.randomUniform(0.1f, 3f, new Shape(NH)).neg();
            NDArray x = m.randomNormal(new Shape(b, NH, HD));
            NDArray bb = m.randomNormal(new Shape(b, groups * DS));
            NDArray c = m.randomNormal(new Shape(b, groups * DS));
            NDArray d = m.randomNormal(new Shape(NH));
            NDArray spare = storage.get(new NDIndex(b + ":")).duplicate();

            NDArray y = kernel.step(s, dt, a, x, bb, c, d, groups);

            // reference, head by head
            int hpg = NH / groups;
            NDArray da = dt.mul(a).exp(); // [b, NH]
            NDArray xdt = x.mul(dt.reshape(b, NH, 1));
            float[] want = new float[b * NH * HD];
            float[] wantState = new float[b * NH * HD * DS];
            for (int h = 0; h < NH; h++) {
                int g = h / hpg;
                NDArray bh = bb.get(new NDIndex(":, " + g * DS + ":" + (g + 1) * DS)).reshape(b, 1, DS);
                NDArray ch = c.get(new NDIndex(":, " + g * DS + ":" + (g + 1) * DS)).reshape(b, DS, 1);
                NDArray sh = before.get(new NDIndex(":, " + h)) // [b, HD, DS]
                        .mul(da.get(new NDIndex(":, " + h)).reshape(b, 1, 1))
                        .add(xdt.get(new NDIndex(":, " + h)).reshape(b, HD, 1).mul(bh));
                NDArray yh = sh.matMul(ch).reshape(b, HD).add(x.get(new NDIndex(":, " + h)).mul(d.get(h)));
                float[] yv = yh.toFloatArray();
                float[] sv = sh.toFloatArray();
                for (int r = 0; r < b; r++) {
                    System.arraycopy(yv, r * HD, want, (r * NH + h) * HD, HD);
                    System.arraycopy(sv, r * HD * DS, wantState, (r * NH + h) * HD * DS, HD * DS);
                }
            }
            assertEquals(new Shape(b, 1, NH * HD), y.getShape());
            assertSame(s.getManager(), y.getManager());
            assertClose(want, y.toFloatArray(), "y");
            assertClose(wantState, s.toFloatArray(), "state view");
            assertClose(wantState, storage.get(new NDIndex(":" + b)).toFloatArray(), "pool storage (in place)");
            assertArrayEquals(spare.toFloatArray(), storage.get(new NDIndex(b + ":")).toFloatArray(), "rows beyond the batch");
        }
    }

    @Test
    void refusesAStateItCannotUpdateInPlace() {
        try (NDManager m = NDManager.newBaseManager(); MambaDecodeKernel kernel = new MambaDecodeKernel(m)) {
            NDArray s = m.zeros(new Shape(2, NH, DS, HD)).transpose(0, 1, 3, 2); // [2, NH, HD, DS], not contiguous
            NDArray dt = m.ones(new Shape(2, NH));
            NDArray a = m.ones(new Shape(NH)).neg();
            NDArray x = m.ones(new Shape(2, NH, HD));
            NDArray bc = m.ones(new Shape(2, DS));
            NDArray d = m.ones(new Shape(NH));
            // torch's view() fails rather than updating a copy
            assertThrows(RuntimeException.class, () -> kernel.step(s, dt, a, x, bc, bc, d, 1));
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            float tol = 1e-5f * Math.max(1f, Math.abs(want[i]));
            if (Math.abs(want[i] - got[i]) > tol) {
                throw new AssertionError(what + "[" + i + "]: want " + want[i] + ", got " + got[i]);
            }
        }
    }
}
