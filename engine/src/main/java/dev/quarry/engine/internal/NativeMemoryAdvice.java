package dev.quarry.engine.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * glibc malloc settings for CPU inference. libtorch allocates every intermediate array with malloc; with glibc's
 * defaults, arrays of a few MB and up come from fresh mmap'd (or freshly trimmed) pages, so every prefill op on a
 * [B, heads, Q, Q] temporary first page-faults its whole output in, 4 KB at a time. These tunables keep freed memory
 * in the heap and back it with transparent huge pages; measured on the 2-core CPU (docs/benchmarks.md) they make a
 * 32 x 64-token h-350m prefill up to 2x faster. They can only be set in the environment before the JVM starts: the
 * {@code quarry} launcher and the Docker image set them; other launchers (a Flink cluster's TaskManagers) should too.
 *
 * <p>The price of keeping freed memory is that a model load's temporaries (the checkpoint widened to fp32, the
 * weights' transposed or scaled copies) stay resident after the load; {@link #trimHeap()} hands them back once.
 */
public final class NativeMemoryAdvice {
    /** The recommended value of {@code GLIBC_TUNABLES} (also in the quarry launcher and docker/Dockerfile). */
    public static final String RECOMMENDED_GLIBC_TUNABLES =
            "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296";

    private static final Logger LOG = LoggerFactory.getLogger(NativeMemoryAdvice.class);
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private NativeMemoryAdvice() {}

    /** glibc's {@code int malloc_trim(size_t pad)}. */
    private interface LibC extends Library {
        int malloc_trim(long pad);
    }

    /**
     * Returns the malloc heap's free pages to the kernel (glibc's {@code malloc_trim(0)}, through JNA). The model
     * calls it once after loading: with the recommended tunables the load's freed temporaries would otherwise stay
     * resident (h-350m, bf16: ~1.33 GB resident after load instead of ~0.9 GB for 0.75 GB of live arrays). Later
     * allocations are unaffected (they grow the heap again and keep what they free). A no-op where it is not glibc
     * on Linux.
     *
     * @return whether malloc_trim was called
     */
    public static boolean trimHeap() {
        if (!linux()) return false;
        try {
            Native.load("c", LibC.class).malloc_trim(0);
            return true;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) { // musl, or no JNA native for this platform
            LOG.debug("malloc_trim is not available: {}", e.toString());
            return false;
        }
    }

    private static boolean linux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    }

    /** Whether {@code tunables} (the GLIBC_TUNABLES value, may be null) turns on huge pages for malloc. */
    static boolean tuned(String tunables) {
        return tunables != null && tunables.contains("glibc.malloc.hugetlb=1");
    }

    /** Logs the advice once per JVM when running on Linux on the CPU without the tunables. */
    static void adviseOnce(String device) {
        if (!linux() || !device.startsWith("cpu") || tuned(System.getenv("GLIBC_TUNABLES"))) return;
        if (LOGGED.compareAndSet(false, true)) {
            LOG.info("GLIBC_TUNABLES does not enable malloc huge pages: large CPU temporaries will page-fault on every "
                    + "allocation (prefill up to 2x slower). Start the JVM with GLIBC_TUNABLES={} (the quarry launcher "
                    + "and the Docker image do)", RECOMMENDED_GLIBC_TUNABLES);
        }
    }
}
