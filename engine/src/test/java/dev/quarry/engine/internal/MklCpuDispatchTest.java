package dev.quarry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.NativeLibrary;
import dev.quarry.engine.internal.MklCpuDispatch.Outcome;
import dev.quarry.engine.internal.model.Logits;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MklCpuDispatchTest {
    private static final Optional<String> AMD = Optional.of("AuthenticAMD");

    @Test
    void appliesOnlyToAmdCpusOnLinuxX8664UnlessTurnedOff() {
        assertEquals(Outcome.LOADED, MklCpuDispatch.decide("Linux", "amd64", "true", AMD));
        assertEquals(Outcome.LOADED, MklCpuDispatch.decide("Linux", "x86_64", " TRUE ", AMD));
        assertEquals(Outcome.NOT_AMD, MklCpuDispatch.decide("Linux", "amd64", "true", Optional.of("GenuineIntel")));
        assertEquals(Outcome.NOT_AMD, MklCpuDispatch.decide("Linux", "amd64", "true", Optional.empty()));
        assertEquals(Outcome.DISABLED, MklCpuDispatch.decide("Linux", "amd64", "false", AMD));
        assertEquals(Outcome.NOT_LINUX_X86_64, MklCpuDispatch.decide("Linux", "aarch64", "true", AMD));
        assertEquals(Outcome.NOT_LINUX_X86_64, MklCpuDispatch.decide("Mac OS X", "x86_64", "true", AMD));
    }

    @Test
    void readsTheVendorFromCpuinfo() {
        assertEquals(AMD, MklCpuDispatch.vendorOf(List.of("processor\t: 0", "vendor_id\t: AuthenticAMD", "cpu family\t: 26")));
        assertEquals(Optional.empty(), MklCpuDispatch.vendorOf(List.of("processor\t: 0", "Features\t: fp asimd")));
    }

    /** The committed shim is a linux-x86_64 library whose one function says "Intel" (rebuild: native/build.sh). */
    @Test
    void theBundledShimAnswersMklsVendorQuestion(@TempDir Path dir) throws IOException {
        assertTrue(linuxX8664(), "the build pins libtorch for linux-x86_64, the shim too");
        Path so = dir.resolve("shim.so");
        try (InputStream in = MklCpuDispatch.class.getResourceAsStream(MklCpuDispatch.RESOURCE)) {
            assertNotNull(in, MklCpuDispatch.RESOURCE + " is missing");
            Files.copy(in, so);
        }
        byte[] head = Files.readAllBytes(so);
        assertTrue(head.length > 64 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F' && head[4] == 2,
                "not a 64-bit ELF file");
        NativeLibrary lib = NativeLibrary.getInstance(so.toString()); // RTLD_LOCAL: does not interpose here
        assertEquals(1, lib.getFunction("mkl_serv_intel_cpu_true").invokeInt(new Object[0]));
    }

    /**
     * Through the real engine, each in a JVM of its own (MKL decides once per process): a model load makes MKL take
     * a vectorised code path, and with the switch off an AMD CPU keeps MKL's generic kernels; both compute the same
     * logits (float rounding apart).
     */
    @Test
    void aModelLoadGivesMklItsVectorisedKernelsAndTheSameLogits() throws Exception {
        assertTrue(linuxX8664(), "the build pins libtorch for linux-x86_64");
        Map<String, String> on = probe();
        assertTrue(Integer.parseInt(on.get("mkl_cpu_type")) > MklCpuDispatch.MKL_GENERIC,
                "MKL runs its generic kernels after a model load: " + on);
        boolean amd = MklCpuDispatch.cpuVendor().equals(AMD);
        assertEquals(amd ? "LOADED" : "NOT_AMD", on.get("outcome"));
        Map<String, String> off = probe("-D" + MklCpuDispatch.PROPERTY + "=false");
        if (amd) {
            assertEquals("DISABLED", off.get("outcome"));
            assertEquals(String.valueOf(MklCpuDispatch.MKL_GENERIC), off.get("mkl_cpu_type"),
                    "without the shim MKL should keep its generic kernels on an AMD CPU");
        }
        Logits.assertClose(floats(off.get("logits")), floats(on.get("logits")), 1e-4, "logits with and without the shim");
    }

    private static float[] floats(String csv) {
        String[] parts = csv.split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i]);
        return v;
    }

    private static Map<String, String> probe(String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.quarry.engine.internal.model.MklProbe"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe did not finish");
        assertEquals(0, p.exitValue(), "the probe failed:\n" + out);
        Map<String, String> facts = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.contains(" ")) facts.put(line.substring(0, eq), line.substring(eq + 1).trim());
        }
        for (String k : List.of("outcome", "mkl_cpu_type", "logits")) assertTrue(facts.containsKey(k), "no " + k + " in:\n" + out);
        return facts;
    }

    private static boolean linuxX8664() {
        String arch = System.getProperty("os.arch", "");
        return System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
                && (arch.equals("amd64") || arch.equals("x86_64"));
    }
}
