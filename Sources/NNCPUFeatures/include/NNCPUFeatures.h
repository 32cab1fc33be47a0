// (Internal to libnn: the nnk_ prefix keeps these out of the exported nn_* API.)
// CPU feature detection and per-thread scratch memory for the GEMM kernels.
// Plain C so that it compiles for every instruction-set level unchanged.
#ifndef NNK_CPU_FEATURES_H
#define NNK_CPU_FEATURES_H

#include <pthread.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the CPU has AVX2 and FMA and the OS saves the YMM state (XCR0
/// bits 1 and 2), else 0.
int nnk_cpu_has_avx2_fma(void);

/// 1 when the CPU has AVX-512 F, CD, BW, DQ and VL (the Skylake-AVX512 set),
/// AVX2 and FMA, and the OS saves the opmask and ZMM state (XCR0 bits 5–7
/// besides 1–2), else 0.
int nnk_cpu_has_avx512_skx(void);

/// A 64-byte-aligned buffer of at least `floats` floats owned by the calling
/// thread: kept between calls and grown when a call needs more; freed when
/// the thread exits. Contents are unspecified. Returns NULL only when the
/// allocation fails.
float *nnk_thread_workspace(size_t floats);

/// A second buffer of the calling thread, like nnk_thread_workspace's but
/// apart from it: the packed B panel that a parallel GEMM's caller shares
/// with the pool's threads (each of which, the caller included, uses its own
/// workspace meanwhile).
float *nnk_thread_panel(size_t floats);

/// The thread-specific key of nn_last_error()'s message (a malloc'ed string
/// per thread, freed when the thread exits), created once with pthread_once:
/// a Swift global's lazy initializer (swift_once) would be invisible to
/// ThreadSanitizer, which then reported the first calls on two threads as
/// a race.
pthread_key_t nnk_error_key(void);

/// *flag, read as an atomic load (acquire): the stop flag of nn_fit_options,
/// which another thread or a signal handler sets while fit runs. Inline, so
/// that the check before each batch costs a load, not a call.
static inline int nnk_load_flag(const volatile int *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }

/// A hint that the cache line holding `address` will be read soon (a
/// prefetcht0 on x86-64; nothing is read, and an address past the end of a
/// buffer is harmless). Inline, so that a micro-kernel's k loop pays one
/// instruction: Swift has no prefetch of its own.
static inline void nnk_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#ifdef __cplusplus
}
#endif

#endif
