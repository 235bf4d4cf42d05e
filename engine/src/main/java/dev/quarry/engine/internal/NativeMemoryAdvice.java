package dev.quarry.engine.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * weights' transposed or scaled copies) stay resident after the load, and a long prefill's through the decode that
 * follows it; {@link #trimHeap()} hands them back (once after a load, and once decoding has gone on for
 * {@link #TRIM_AFTER_DECODE_STEPS} steps after a prefill of at least {@link #TRIM_AFTER_TOKENS} tokens).
 */
public final class NativeMemoryAdvice {
    /** The recommended value of {@code GLIBC_TUNABLES} (also in the quarry launcher and docker/Dockerfile). */
    public static final String RECOMMENDED_GLIBC_TUNABLES =
            "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296";

    /**
     * A CPU prefill over at least this many tokens (rows x positions) trims the heap once {@link
     * #TRIM_AFTER_DECODE_STEPS} decode steps have followed it without another such prefill. Its temporaries grow with
     * the tokens, and glibc keeps what it frees spread over the heap: an h-350m 512-token prefill left ~250-330 MB
     * resident that the decode steps never reuse (their temporaries are small). The next long prefill faults its
     * pages in again, once. The system property {@value #TRIM_PROPERTY} sets another threshold; 0 turns these trims
     * off.
     */
    public static final int TRIM_AFTER_TOKENS = 256;
    public static final String TRIM_PROPERTY = "quarry.malloc.trim-after-tokens";
    /**
     * Decode steps after a long prefill before the trim: continuous batching interleaves admission prefills with a
     * few decode steps, and trimming between them would fault the next admission's working set in every time.
     */
    public static final int TRIM_AFTER_DECODE_STEPS = 16;

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
        LibC c = LibCHolder.LIBC;
        if (c == null) return false;
        c.malloc_trim(0);
        TRIMS.incrementAndGet();
        return true;
    }

    /** How many times this JVM trimmed the heap. */
    public static long trims() {
        return TRIMS.get();
    }

    private static final AtomicLong TRIMS = new AtomicLong();

    /** The prefill size (rows x positions) from which decoding after it trims the heap; 0: never. */
    public static long trimAfterTokens() {
        return TrimHolder.AFTER;
    }

    private static final class TrimHolder {
        static final long AFTER = parse(System.getProperty(TRIM_PROPERTY));
    }

    static long parse(String value) {
        if (value == null || value.isBlank()) return TRIM_AFTER_TOKENS;
        try {
            long v = Long.parseLong(value.trim());
            if (v >= 0) return v;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("-D" + TRIM_PROPERTY + " must be a token count >= 0 (0: off), got '" + value + "'");
    }

    /** glibc through JNA, bound once; null where it is not glibc on Linux. */
    private static final class LibCHolder {
        static final LibC LIBC = bind();

        private static LibC bind() {
            if (!linux()) return null;
            try {
                NativeLibrary.getInstance("c").getFunction("malloc_trim"); // resolves it now: musl has none
                return Native.load("c", LibC.class);
            } catch (UnsatisfiedLinkError | NoClassDefFoundError e) { // musl, or no JNA native for this platform
                LOG.debug("malloc_trim is not available: {}", e.toString());
                return null;
            }
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
