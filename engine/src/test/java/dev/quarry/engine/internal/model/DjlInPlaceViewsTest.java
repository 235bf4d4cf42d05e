package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * What the state slot pool relies on in DJL 0.35 / PyTorch: a basic slice ({@code get(":n")}) is a view
 * of its base, in-place ops on the view ({@code muli}, {@code addi}, {@code set}) write the base, and
 * {@code set} on an index of the base copies rows in place.
 */
class DjlInPlaceViewsTest {
    @Test
    void slicesAreViewsAndInPlaceOpsWriteTheBase() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray base = m.arange(0f, 12f, 1f).reshape(4, 3);
            NDArray view = base.get(":2");
            view.muli(2).addi(1); // rows 0,1: 2x+1
            assertArrayEquals(new float[] {1, 3, 5, 7, 9, 11, 6, 7, 8, 9, 10, 11}, base.toFloatArray());
            view.set(new NDIndex("..."), m.create(new float[] {0, 0, 0, 1, 1, 1}, new Shape(2, 3))); // whole-view copy
            assertArrayEquals(new float[] {0, 0, 0, 1, 1, 1, 6, 7, 8, 9, 10, 11}, base.toFloatArray());
            view.close(); // closing the view handle leaves the base intact
            base.set(new NDIndex("0"), base.get("3")); // row move (slot refill)
            assertArrayEquals(new float[] {9, 10, 11, 1, 1, 1, 6, 7, 8, 9, 10, 11}, base.toFloatArray());
            // a view of a 4-d state written through a column range, as attention does for K/V
            NDArray kv = m.zeros(new Shape(3, 2, 4, 1));
            NDArray rows = kv.get(":2");
            rows.set(new NDIndex(":, :, 1:2, :"), m.ones(new Shape(2, 2, 1, 1)));
            float[] got = kv.toFloatArray();
            float[] want = new float[24];
            for (int r = 0; r < 2; r++) for (int h = 0; h < 2; h++) want[r * 8 + h * 4 + 1] = 1;
            assertArrayEquals(want, got);
            // a boolean mask view
            NDArray mask = m.zeros(new Shape(3, 4), DataType.BOOLEAN);
            mask.get(":2").set(new NDIndex(":, 2:3"), m.ones(new Shape(2, 1), DataType.BOOLEAN));
            assertArrayEquals(new boolean[] {false, false, true, false, false, false, true, false, false, false, false, false},
                    mask.toBooleanArray());
        }
    }
}
