package dev.quarry.engine;

/**
 * What an engine has loaded. {@code weightsHash} is a stable hash of the checkpoint's safetensors
 * headers and sizes (cheap to compute), used for lineage.
 */
public record ModelInfo(String name, String path, String weightsHash, String device, String dtype,
                        long parameterCount, int contextLength) {}
