package dev.quarry.engine.internal;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets libtorch's MKL use its AVX2 / AVX-512 kernels on AMD CPUs. libtorch's CPU build links Intel MKL statically,
 * and MKL checks the CPU's vendor before its instruction set: on an AMD CPU it runs its generic kernels
 * ({@code mkl_blas_def_*}). Measured on this project's AMD EPYC (Zen 5, 2 cores; docs/benchmarks.md, "MKL's AVX-512 kernels on AMD"):
 * f32 matmuls of the h-350m shapes 2.0-2.6x faster, shared-prefix classification 1.5x, 32-sequence decode 1.6x,
 * single-sequence decode 1.1x. bf16 matmuls go through oneDNN, which never had the vendor check.
 *
 * <p>MKL asks one exported function, {@code mkl_serv_intel_cpu_true}, which libtorch_cpu.so calls through its PLT
 * (lazy binding), so a library loaded {@code RTLD_GLOBAL} before MKL's first call answers in its place. The engine
 * bundles such a library (engine/src/main/native, 5 KB, returns 1) and {@link #enable()} loads it before every model
 * load; MKL still reads the CPU's real feature flags (cpuid) to pick among its SSE, AVX2 and AVX-512 kernels, so a
 * CPU gets no instruction it lacks. MKL decides once per process: a BLAS call by anything else in the same JVM before
 * the first model load keeps the generic kernels, and the engine says so in a warning.
 *
 * <p>On by default on Linux x86-64 with an AMD CPU; {@code -Dquarry.mkl.intel-code-paths=false} keeps MKL's own choice.
 * Results differ from the generic kernels only in float rounding (the golden tests hold either way).
 */
public final class MklCpuDispatch {
    /** System property; {@code false} keeps MKL's generic kernels on AMD CPUs. Default {@code true}. */
    public static final String PROPERTY = "quarry.mkl.intel-code-paths";
    /** The bundled shim, built by engine/src/main/native/build.sh. */
    static final String RESOURCE = "/dev/quarry/engine/native/linux-x86_64/libquarry_mkl_intel_cpu.so";
    /** MKL's name for its code path when it runs the generic kernels ({@code mkl_serv_cpu_detect}). */
    public static final int MKL_GENERIC = 0;

    private static final int RTLD_NOW = 0x2;
    private static final int RTLD_GLOBAL = 0x100;
    private static final Logger LOG = LoggerFactory.getLogger(MklCpuDispatch.class);

    /** What {@link #enable()} did. */
    public enum Outcome {
        /** The shim is loaded: MKL takes its Intel code paths, unless it had already decided. */
        LOADED,
        /** Not an AMD CPU (MKL's own choice is already the best one). */
        NOT_AMD,
        /** Not Linux on x86-64 (no shim for it). */
        NOT_LINUX_X86_64,
        /** Turned off by {@value #PROPERTY}=false. */
        DISABLED,
        /** The shim could not be written or loaded (logged). */
        FAILED
    }

    private static Outcome outcome;
    /** Held for the JVM's life: once MKL has asked, libtorch's PLT entry points into this library. */
    @SuppressWarnings("unused")
    private static Object shim; // a JNA NativeLibrary
    private static boolean reported;

    private MklCpuDispatch() {}

    /** Loads the shim once per JVM where it applies (idempotent, cheap after the first call). */
    public static synchronized Outcome enable() {
        if (outcome != null) return outcome;
        outcome = decide(System.getProperty("os.name", ""), System.getProperty("os.arch", ""),
                System.getProperty(PROPERTY, "true"), cpuVendor());
        if (outcome == Outcome.LOADED) {
            try {
                shim = load();
                LOG.info("AMD CPU: MKL's AVX2/AVX-512 kernels enabled for libtorch (MKL would run its generic kernels "
                        + "otherwise, f32 matmuls ~2x slower); -D{}=false turns this off", PROPERTY);
            } catch (RuntimeException | LinkageError | IOException e) { // LinkageError: no JNA, or dlopen failed
                outcome = Outcome.FAILED;
                LOG.warn("cannot load the MKL dispatch shim ({}): libtorch's MKL runs its generic kernels on this AMD "
                        + "CPU (f32 matmuls ~2x slower)", e.toString());
            }
        }
        return outcome;
    }

    /** The decision for a platform, kept free of the machine it runs on. */
    static Outcome decide(String osName, String osArch, String property, Optional<String> vendor) {
        if (!osName.toLowerCase(Locale.ROOT).contains("linux")
                || !(osArch.equals("amd64") || osArch.equals("x86_64"))) {
            return Outcome.NOT_LINUX_X86_64;
        }
        if (!vendor.map("AuthenticAMD"::equals).orElse(false)) return Outcome.NOT_AMD;
        if (!Boolean.parseBoolean(property.trim())) return Outcome.DISABLED;
        return Outcome.LOADED;
    }

    /** The first {@code vendor_id} in /proc/cpuinfo, if readable. */
    static Optional<String> cpuVendor() {
        try {
            return vendorOf(Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1));
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    static Optional<String> vendorOf(List<String> cpuinfo) {
        for (String line : cpuinfo) {
            if (line.startsWith("vendor_id")) {
                int colon = line.indexOf(':');
                if (colon > 0) return Optional.of(line.substring(colon + 1).trim());
            }
        }
        return Optional.empty();
    }

    private static NativeLibrary load() throws IOException {
        Path file = Files.createTempFile("quarry-mkl-intel-cpu-", ".so");
        try {
            try (InputStream in = MklCpuDispatch.class.getResourceAsStream(RESOURCE)) {
                if (in == null) throw new IOException("resource " + RESOURCE + " is missing from the engine jar");
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            return NativeLibrary.getInstance(file.toString(), Map.of(Library.OPTION_OPEN_FLAGS, RTLD_NOW | RTLD_GLOBAL));
        } finally {
            Files.deleteIfExists(file); // the mapping stays; nothing is left behind in the temp directory
        }
    }

    /**
     * MKL's code path in this process ({@code mkl_serv_cpu_detect} of the loaded libtorch_cpu.so; {@value #MKL_GENERIC}
     * = generic kernels, higher = a vectorised path, 7 = AVX-512 here), or empty where libtorch_cpu.so is not loaded
     * or has no MKL. Asking makes MKL decide, so call it after {@link #enable()}.
     */
    public static Optional<Integer> mklCpuType() {
        try {
            Optional<String> lib = Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.ISO_8859_1).stream()
                    .filter(l -> l.endsWith("/libtorch_cpu.so")).map(l -> l.substring(l.indexOf('/'))).findFirst();
            if (lib.isEmpty()) return Optional.empty();
            Function detect = NativeLibrary.getInstance(lib.get()).getFunction("mkl_serv_cpu_detect");
            return Optional.of(detect.invokeInt(new Object[0]));
        } catch (IOException | UncheckedIOException | LinkageError e) {
            return Optional.empty();
        }
    }

    /**
     * Warns once when the shim was loaded but MKL had already chosen its generic kernels (a BLAS call ran in this JVM
     * before the first model load). Called after a model load.
     */
    static synchronized void warnIfTooLate() {
        if (reported || outcome != Outcome.LOADED) return;
        reported = true;
        mklCpuType().filter(t -> t == MKL_GENERIC).ifPresent(t -> LOG.warn("MKL had chosen its generic kernels before "
                + "the engine's first model load (a matmul ran earlier in this JVM): f32 matmuls run ~2x slower on this "
                + "AMD CPU. Load a model before other libtorch work in this JVM"));
    }
}
