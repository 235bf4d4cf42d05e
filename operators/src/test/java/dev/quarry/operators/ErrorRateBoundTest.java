package dev.quarry.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.engine.ErrorKind;
import dev.quarry.operators.internal.ErrorRateTracker;
import java.util.Set;
import org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler;
import org.junit.jupiter.api.Test;

class ErrorRateBoundTest {
    @Test
    void validation() {
        assertThrows(IllegalArgumentException.class, () -> ErrorRateBound.fraction(1.0, 10));
        assertThrows(IllegalArgumentException.class, () -> ErrorRateBound.fraction(-0.5, 10));
        assertThrows(IllegalArgumentException.class, () -> ErrorRateBound.fraction(0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> ErrorRateBound.absolute(-2));
        assertThrows(IllegalArgumentException.class, () -> ErrorRateBound.builder().build(), "a bound with no limit");
        assertThrows(IllegalArgumentException.class, () -> ErrorRateBound.builder().kinds(Set.of()));
        assertTrue(ErrorRateBound.none().isNone());
    }

    @Test
    void noneNeverTrips() {
        ErrorRateTracker t = new ErrorRateTracker(ErrorRateBound.none());
        for (int i = 0; i < 1000; i++) assertNull(t.record(ErrorKind.ENGINE_FAILURE, "r" + i, "boom"));
    }

    @Test
    void fractionOverSlidingWindow() {
        ErrorRateTracker t = new ErrorRateTracker(ErrorRateBound.fraction(0.5, 4));
        assertNull(t.record(ErrorKind.TIMEOUT, "a", "slow"));
        assertNull(t.record(ErrorKind.TIMEOUT, "b", "slow"));
        assertNull(t.record(ErrorKind.TIMEOUT, "c", "slow"), "not judged before the window is full");
        // window a,b,c,d: 3 of 4 errors > 50%
        String m = t.record(null, "d", null);
        assertNotNull(m);
        assertTrue(m.contains("3 of the last 4"), m);
        assertTrue(m.contains("50.0% allowed"), m);

        ErrorRateTracker ok = new ErrorRateTracker(ErrorRateBound.fraction(0.5, 4));
        for (int i = 0; i < 100; i++) assertNull(ok.record(i % 2 == 0 ? ErrorKind.TIMEOUT : null, "r" + i, "x"), "exactly 50% is not more than 50%");
        ErrorRateTracker slide = new ErrorRateTracker(ErrorRateBound.fraction(0.5, 4));
        for (int i = 0; i < 10; i++) assertNull(slide.record(null, "r" + i, null));
        assertNull(slide.record(ErrorKind.TIMEOUT, "e1", "x"));
        assertNull(slide.record(ErrorKind.TIMEOUT, "e2", "x"));
        assertNotNull(slide.record(ErrorKind.TIMEOUT, "e3", "x"), "old successes slide out of the window");
    }

    @Test
    void absoluteCapAndKinds() {
        ErrorRateTracker t = new ErrorRateTracker(ErrorRateBound.builder().maxErrors(2).kinds(Set.of(ErrorKind.ENGINE_FAILURE)).build());
        assertNull(t.record(ErrorKind.EMPTY_INPUT, "x", "empty"), "kinds outside the bound do not count");
        assertNull(t.record(ErrorKind.ENGINE_FAILURE, "a", "boom"));
        assertNull(t.record(ErrorKind.ENGINE_FAILURE, "b", "boom"));
        String m = t.record(ErrorKind.ENGINE_FAILURE, "c", "boom");
        assertNotNull(m);
        assertTrue(m.contains("3 error results") && m.contains("record 'c'") && m.contains("engine_failure"), m);
        assertEquals(m, t.record(null, "d", null), "once exceeded, later results report the first violation");
    }

    @Test
    void flinkClassifiesTheBoundsFailureAsNonRecoverableThroughWrappers() {
        Exception wrapped = new Exception("Could not complete the stream element", new ErrorRateExceededException("bound"));
        assertTrue(ExecutionFailureHandler.isUnrecoverableError(wrapped));
        assertFalse(ExecutionFailureHandler.isUnrecoverableError(
                new Exception("Could not complete the stream element", new IllegalStateException("engine"))));
    }
}
