package dev.quarry.engine.internal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** What a layer's prefill stages rely on: temporaries die with the stage, kept results and inputs do not. */
class StageTest {
    @Test
    void freesTemporariesKeepsResultsAndReturnsInputs() {
        try (NDManager state = NDManager.newBaseManager(); NDManager step = NDManager.newBaseManager()) {
            NDArray s = state.create(new float[] {1, 2, 3}); // a state array, as the layer sees it:
            NDArray kept;
            NDArray temp;
            try (NDManager layer = step.newSubManager()) {
                s.tempAttach(layer); // temp-attached to the layer's manager (GraniteModel.forwardLayers)
                try (Stage st = new Stage(layer, s)) {
                    temp = s.mul(2); // derived from an input: belongs to the stage
                    assertSame(st.manager(), temp.getManager());
                    NDArray made = st.manager().ones(new ai.djl.ndarray.types.Shape(3));
                    kept = st.keep(temp.add(made));
                }
                assertTrue(temp.isReleased(), "a stage temporary outlived its stage");
                assertFalse(kept.isReleased());
                assertSame(layer, kept.getManager());
                assertSame(layer, s.getManager(), "a nested temp-attach must return the input to the layer");
                assertArrayEquals(new float[] {3, 5, 7}, kept.toFloatArray());
            }
            assertTrue(kept.isReleased(), "kept results belong to the layer and die with it");
            assertFalse(s.isReleased(), "the state array must survive the layer");
            assertSame(state, s.getManager());
            assertArrayEquals(new float[] {1, 2, 3}, s.toFloatArray());
        }
    }
}
