package dev.quarry.operators.internal;

import java.util.Collection;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

/**
 * Picks the CUDA device from Flink's external resources: with {@code external-resources: gpu} configured
 * (GPUDriver), each TaskManager is given GPU indices, exposed as the {@code index} property of the
 * {@code gpu} resource infos. A CUDA device option ({@code cuda:N}) then becomes {@code cuda:<lowest
 * assigned index>}; a CPU option stays on the CPU; without the resource the option is used as given.
 */
public final class GpuDevices {
    /** Flink's external resource name for GPUs. */
    public static final String RESOURCE_NAME = "gpu";
    /** The property holding a GPU's index. */
    public static final String INDEX_PROPERTY = "index";

    private GpuDevices() {}

    public static String resolve(String configured, Collection<ExternalResourceInfo> gpus) {
        if (configured == null || !configured.startsWith("cuda") || gpus == null || gpus.isEmpty()) return configured;
        OptionalInt min = gpus.stream().map(g -> g.getProperty(INDEX_PROPERTY)).flatMap(Optional::stream)
                .map(String::trim).filter(s -> s.matches("\\d+")).mapToInt(Integer::parseInt).min();
        return min.isPresent() ? "cuda:" + min.getAsInt() : configured;
    }
}
