package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The split few-row product of {@link Linear} equals the plain one, for every shape it is asked for. */
class LinearTest {
    @Test
    void partsDivideTheInputDimensionAndFollowTheThreads() {
        assertEquals(2, Linear.parts(768, 2));
        assertEquals(1, Linear.parts(768, 1));
        assertEquals(1, Linear.parts(7, 2)); // odd input dimension: no split
        assertEquals(3, Linear.parts(9, 4)); // the largest divisor up to the thread count
        assertEquals(Linear.MAX_PARTS, Linear.parts(1 << 12, 64));
    }

    @Test
    void splitProductEqualsThePlainProductForFewAndManyRows() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(7);
            NDArray wT = m.randomNormal(new Shape(12, 5));
            Linear split = new Linear(wT, null, 3); // wT is already the fp32 layout [in, out]
            assertEquals(3, split.parts());
            Shape[] inputs = {
                new Shape(1, 1, 12), // decode at batch 1 (the reshape path)
                new Shape(1, 12),
                new Shape(3, 1, 12), // a few rows (the strided-view path)
                new Shape(2, Linear.SPLIT_MAX_ROWS / 2, 12), // the largest split
                new Shape(Linear.SPLIT_MAX_ROWS + 1, 12) // more than SPLIT_MAX_ROWS: the plain product
            };
            for (Shape s : inputs) {
                NDArray x = m.randomNormal(s);
                NDArray want = x.matMul(wT);
                NDArray got = split.forward(x);
                assertEquals(want.getShape(), got.getShape(), "shape for input " + s);
                assertArrayEquals(want.toFloatArray(), got.toFloatArray(), 1e-5f, "values for input " + s);
            }
            assertEquals(1, new Linear(wT, null, 1).parts());
        }
    }
}
