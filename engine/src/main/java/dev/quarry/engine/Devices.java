package dev.quarry.engine;

import ai.djl.Device;
import java.util.function.IntSupplier;

/**
 * Quarry's device names ({@code cpu}, {@code cuda:N}) as DJL devices. DJL's own parser does not take
 * {@code cuda:N} (it knows {@code gpu0}), and a CUDA device that PyTorch cannot see should fail with a
 * message saying so, before any weight is loaded.
 */
public final class Devices {
    private Devices() {}

    /** The DJL device for {@code cpu} or {@code cuda:N}. */
    public static Device toDjl(String device) {
        if ("cpu".equals(device)) return Device.cpu();
        if (device != null && device.matches("cuda:\\d+")) return Device.gpu(Integer.parseInt(device.substring("cuda:".length())));
        throw new IllegalArgumentException("device must be 'cpu' or 'cuda:N', got '" + device + "'");
    }

    /** Fails with a one-line message when {@code device} is a CUDA device that PyTorch does not see here. */
    public static void requireAvailable(String device) {
        requireAvailable(device, () -> ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount());
    }

    static void requireAvailable(String device, IntSupplier gpuCount) {
        Device d = toDjl(device);
        if (!d.isGpu()) return;
        int n = gpuCount.getAsInt();
        if (d.getDeviceId() >= n) {
            throw new IllegalArgumentException("device " + device + " is not available: "
                    + (n == 0 ? "PyTorch sees no CUDA GPU on this machine (CUDA needs a GPU, its driver and a build with -Pcuda)"
                            : "PyTorch sees " + n + " CUDA GPU" + (n == 1 ? "" : "s") + " (cuda:0" + (n > 1 ? " to cuda:" + (n - 1) : "") + ")")
                    + "; use --device cpu or another device");
        }
    }
}
