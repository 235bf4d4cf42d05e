/*
 * Quarry's MKL dispatch shim (linux-x86_64). libtorch's CPU build links Intel MKL statically, and MKL picks its
 * code path from the CPU vendor before it looks at the instruction set: on AMD CPUs it runs its generic kernels
 * (`mkl_blas_def_*`), even where the CPU has AVX2 or AVX-512. MKL asks through this one exported function, which
 * libtorch_cpu.so calls through its PLT, so a library loaded RTLD_GLOBAL before MKL's first call answers instead.
 * MKL still reads the CPU's real feature flags (cpuid) to choose between its SSE, AVX2 and AVX-512 kernels.
 *
 * Loaded by dev.quarry.engine.internal.MklCpuDispatch; rebuild with engine/src/main/native/build.sh.
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
