package dev.quarry.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.quarry.engine.checkpoint.CheckpointMaker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cuda:N} maps to DJL's GPU N (DJL's parser refuses "cuda:0"); an unavailable GPU fails with a clear message. */
class DevicesTest {
    @TempDir Path tmp;

    @Test
    void quarryDeviceNamesMapToDjlDevices() {
        assertEquals(Device.cpu(), Devices.toDjl("cpu"));
        assertEquals(Device.gpu(0), Devices.toDjl("cuda:0"));
        assertEquals(Device.gpu(3), Devices.toDjl("cuda:3"));
        assertThrows(IllegalArgumentException.class, () -> Devices.toDjl("gpu0"));
    }

    @Test
    void gpuCountDecidesAvailability() {
        Devices.requireAvailable("cpu", () -> { throw new AssertionError("cpu needs no GPU count"); });
        Devices.requireAvailable("cuda:1", () -> 2);
        String none = assertThrows(IllegalArgumentException.class, () -> Devices.requireAvailable("cuda:0", () -> 0)).getMessage();
        assertTrue(none.contains("cuda:0") && none.contains("no CUDA GPU") && none.contains("--device cpu"), none);
        String tooHigh = assertThrows(IllegalArgumentException.class, () -> Devices.requireAvailable("cuda:2", () -> 2)).getMessage();
        assertTrue(tooHigh.contains("cuda:2") && tooHigh.contains("2 CUDA GPUs (cuda:0 to cuda:1)"), tooHigh);
    }

    /** cuda:N one past the GPUs PyTorch sees (cuda:0 on a machine without one): refused naming the device, not DJL's parse error. */
    @Test
    void openingOnAnUnavailableGpuSaysSo() throws Exception {
        Path d = tmp.resolve("m");
        CheckpointMaker.make("tiny-hybrid", 1, d, "f32", 1);
        String device = "cuda:" + ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount();
        EngineOptions o = EngineOptions.builder().modelDir(d).device(device).dtype("f32").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engine.open(o).close());
        assertTrue(e.getMessage().contains("device " + device + " is not available"), e.getMessage());
        assertFalse(e.getMessage().contains("Failed to parse"), e.getMessage());
    }
}
