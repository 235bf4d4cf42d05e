package dev.quarry.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to load an engine: where the checkpoint is, on which device, in which dtype, and the batching
 * knobs. Immutable; validated in {@link Builder#build()}.
 */
public final class EngineOptions {
    public static final String DEFAULT_DEVICE = "cpu";
    public static final String DTYPE_F32 = "f32";
    public static final String DTYPE_BF16 = "bf16";

    private final Path modelDir;
    private final String device;
    private final String dtype;
    private final BatchingOptions batching;

    private EngineOptions(Builder b) {
        this.modelDir = b.modelDir;
        this.device = b.device;
        this.dtype = b.dtype;
        this.batching = b.batching;
    }

    public static Builder builder() { return new Builder(); }

    /** Hugging Face checkpoint directory (config.json, safetensors, tokenizer.json). */
    public Path modelDir() { return modelDir; }
    /** {@code cpu} or {@code cuda:N}. */
    public String device() { return device; }
    /** {@code f32} or {@code bf16}; default f32 on CPU, bf16 on CUDA. */
    public String dtype() { return dtype; }
    public BatchingOptions batching() { return batching; }

    /** The weights this engine holds: model directory, device and dtype (several engines may share it). */
    public String weightsKey() {
        return modelDir.toAbsolutePath().normalize() + "|" + device + "|" + dtype;
    }

    /**
     * The identity of an engine in a per-JVM registry: same key, same engine. It includes the batching
     * options, because some of them change results (maximum sequence length, input truncation, request
     * timeout, queue-full policy): two jobs that share an engine must have asked for the same ones.
     */
    public String registryKey() {
        return weightsKey() + "|" + batching;
    }

    @Override
    public String toString() {
        return "EngineOptions{modelDir=" + modelDir + ", device=" + device + ", dtype=" + dtype + ", batching=" + batching + '}';
    }

    public static final class Builder {
        private Path modelDir;
        private String device = DEFAULT_DEVICE;
        private String dtype;
        private BatchingOptions batching = BatchingOptions.defaults();

        public Builder modelDir(Path v) { this.modelDir = v; return this; }
        public Builder device(String v) { this.device = v; return this; }
        public Builder dtype(String v) { this.dtype = v; return this; }
        public Builder batching(BatchingOptions v) { this.batching = v; return this; }

        public EngineOptions build() {
            Objects.requireNonNull(modelDir, "modelDir must be set");
            Objects.requireNonNull(batching, "batching");
            if (device == null || !(device.equals("cpu") || device.matches("cuda:\\d+"))) {
                throw new IllegalArgumentException("device must be 'cpu' or 'cuda:N', got '" + device + "'");
            }
            if (dtype == null) dtype = device.startsWith("cuda") ? DTYPE_BF16 : DTYPE_F32;
            if (!dtype.equals(DTYPE_F32) && !dtype.equals(DTYPE_BF16)) {
                throw new IllegalArgumentException("dtype must be 'f32' or 'bf16', got '" + dtype + "'");
            }
            return new EngineOptions(this);
        }
    }
}
