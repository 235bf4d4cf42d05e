package dev.quarry.engine.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.internal.model.GraniteModel;
import dev.quarry.engine.internal.model.ModelState;
import dev.quarry.engine.internal.model.SyntheticWeights;
import dev.quarry.engine.model.GraniteConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Single-sequence model benchmark: load time, resident memory, batch-1 prefill and decode tokens/s, the
 * machine's memory bandwidth, and the bandwidth bound for decode (reading every weight once per token).
 * Measures only; asserts nothing. Entry point for {@code quarry bench} (sched engineer) via {@link #run}.
 */
public final class ModelBench {
    public static final int DEFAULT_PROMPT_TOKENS = 512;
    public static final int DEFAULT_DECODE_TOKENS = 64;
    /**
     * Untimed decode steps after the prefill: the first steps of a JVM run are slower (JIT, and the young
     * generation and malloc heap touched for the first time: ~400 minor faults per step for the first ~80 steps on
     * the h-350m shape, docs/benchmarks.md), which the default 64 timed tokens would otherwise partly measure.
     */
    public static final int WARMUP_DECODE_STEPS = 32;
    public static final long BANDWIDTH_BYTES = 1L << 30;

    /** Results. Rates in tokens/s, sizes in bytes, times in seconds. */
    public record Result(double loadSeconds, long weightBytes, long rssBeforeLoad, long rssAfterLoad, long rssPeak,
            double prefillTokensPerSecond, double decodeTokensPerSecond, double decodeMedianTokensPerSecond,
            double bandwidthBytesPerSecond, double decodeBoundTokensPerSecond, double minorFaultsPerDecodeStep) {
        public double decodeFractionOfBound() { return decodeTokensPerSecond / decodeBoundTokensPerSecond; }

        public String table() {
            return String.format(Locale.ROOT,
                    "load_s=%.2f weights_MB=%.1f rss_after_load_MB=%.1f rss_peak_MB=%.1f (rss_before %.1f)%n"
                            + "prefill_tok_s=%.1f decode_tok_s=%.2f decode_median_step_tok_s=%.2f read_bandwidth_GB_s=%.2f "
                            + "decode_bound_tok_s=%.2f fraction=%.2f fraction_median=%.2f minor_faults_per_step=%.0f",
                    loadSeconds, weightBytes / 1e6, rssAfterLoad / 1e6, rssPeak / 1e6, rssBeforeLoad / 1e6,
                    prefillTokensPerSecond, decodeTokensPerSecond, decodeMedianTokensPerSecond, bandwidthBytesPerSecond / 1e9,
                    decodeBoundTokensPerSecond, decodeFractionOfBound(), decodeMedianTokensPerSecond / decodeBoundTokensPerSecond,
                    minorFaultsPerDecodeStep);
        }
    }

    private ModelBench() {}

    /** Benchmarks a model built by {@code loader}, whose weights occupy {@code weightBytes}. */
    public static Result run(Supplier<GraniteModel> loader, long weightBytes, int promptTokens, int decodeTokens) {
        long rss0 = rss();
        long t0 = System.nanoTime();
        try (GraniteModel model = loader.get(); NDManager root = NDManager.newBaseManager()) {
            double load = (System.nanoTime() - t0) / 1e9;
            long rss1 = rss();
            // the bandwidth is measured before and after the run and the best kept: one momentary reading on a
            // shared machine can be low (35-60 GB/s within an hour here), which would flatter the fraction
            double bwBefore = bandwidth();
            int v = model.config().vocabSize;
            Random rnd = new Random(1);
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < prompt.length; i++) prompt[i] = rnd.nextInt(Math.min(v, 50000));
            double prefill, decode, median, faults;
            try (ModelState st = model.emptyState(1)) {
                try (NDManager step = root.newSubManager()) { // warm-up
                    model.prefill(step, new int[][] {java.util.Arrays.copyOf(prompt, 16)}, st);
                }
            }
            try (ModelState st = model.emptyState(1)) {
                long a = System.nanoTime();
                int next;
                try (NDManager step = root.newSubManager()) {
                    next = (int) model.prefill(step, new int[][] {prompt}, st).argMax(1).toLongArray()[0];
                }
                prefill = promptTokens / ((System.nanoTime() - a) / 1e9);
                for (int i = 0; i < WARMUP_DECODE_STEPS; i++) next = step(model, root, st, next);
                // the median step time is reported too: on a shared machine it is less sensitive to other load
                long[] steps = new long[decodeTokens];
                long f0 = minorFaults();
                long b = System.nanoTime();
                for (int i = 0; i < decodeTokens; i++) {
                    long s = System.nanoTime();
                    next = step(model, root, st, next);
                    steps[i] = System.nanoTime() - s;
                }
                decode = decodeTokens / ((System.nanoTime() - b) / 1e9);
                faults = (minorFaults() - f0) / (double) decodeTokens;
                java.util.Arrays.sort(steps);
                median = 1e9 / steps[steps.length / 2];
            }
            long rssPeak = Math.max(rss1, rss());
            double bw = Math.max(bwBefore, bandwidth());
            return new Result(load, weightBytes, rss0, rss1, rssPeak, prefill, decode, median, bw, bw / weightBytes, faults);
        }
    }

    private static int step(GraniteModel model, NDManager root, ModelState st, int id) {
        try (NDManager step = root.newSubManager()) {
            return (int) model.decode(step, new int[] {id}, st).argMax(1).toLongArray()[0];
        }
    }

    /**
     * Read bandwidth in bytes/s: a sum over a 1 GiB fp32 array that was written beforehand (no page faults
     * in the timed part), best of 5. Decode reads every weight once per token, so weights / this is the
     * time bound of one token.
     */
    public static double bandwidth() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.ones(new Shape(BANDWIDTH_BYTES / 4), DataType.FLOAT32);
            a.sum().getFloat();
            double best = 0;
            for (int i = 0; i < 5; i++) {
                long t = System.nanoTime();
                try (NDArray s = a.sum()) {
                    s.getFloat();
                }
                best = Math.max(best, BANDWIDTH_BYTES / ((System.nanoTime() - t) / 1e9));
            }
            return best;
        }
    }

    /**
     * Minor page faults of this process so far (Linux; 0 elsewhere). A decode step that still faults is not in its
     * steady state: with the JVM's default initial heap (1/64 of RAM) each batch-1 h-350m step first-touches ~240
     * pages of a growing young generation for its first ~200 steps (~16 us each on the benchmark VM), with the
     * launcher's {@code -Xms64m} ~18 (docs/benchmarks.md).
     */
    public static long minorFaults() {
        try {
            String st = Files.readString(Path.of("/proc/self/stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]); // minflt: the 10th field, the 8th after the command name
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Resident set size of this process in bytes (Linux; 0 elsewhere). */
    public static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** Bytes of all weights of a config at 4 bytes each (fp32 model). */
    public static long weightBytes(GraniteConfig c) {
        return GraniteModel.weightBytes(c, DataType.FLOAT32);
    }

    /**
     * {@code ModelBench (CHECKPOINT_DIR | CONFIG_JSON) [prompt tokens] [decode tokens] [f32|bf16]}: a checkpoint
     * directory is loaded from its safetensors files (load time included); a config.json gets synthetic weights.
     * bf16 holds the linear weights in bf16 and runs the linears as bf16 matmuls (see docs/model.md).
     */
    public static void main(String[] args) throws IOException {
        System.setProperty("ai.djl.offline", "true");
        Path p = Path.of(args[0]);
        boolean dir = Files.isDirectory(p);
        GraniteConfig c = GraniteConfig.load(dir ? p.resolve("config.json") : p);
        int prompt = args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_PROMPT_TOKENS;
        int decode = args.length > 2 ? Integer.parseInt(args[2]) : DEFAULT_DECODE_TOKENS;
        DataType dtype = args.length > 3 && args[3].equals("bf16") ? DataType.BFLOAT16 : DataType.FLOAT32;
        Supplier<GraniteModel> loader = () -> {
            try {
                return dir ? GraniteModel.load(p, Device.cpu(), dtype)
                        : GraniteModel.load(c, new SyntheticWeights(c), Device.cpu(), dtype);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        Result r = run(loader, GraniteModel.weightBytes(c, dtype), prompt, decode);
        System.out.println("dtype=" + (dtype == DataType.BFLOAT16 ? "bf16" : "f32") + " torch_threads="
                + ai.djl.pytorch.jni.JniUtils.getNumThreads() + " mkl=" + BenchRunner.mklPath().replace(' ', '_'));
        System.out.println(r.table());
    }
}
