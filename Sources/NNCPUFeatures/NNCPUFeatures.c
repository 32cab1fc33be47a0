#include "NNCPUFeatures.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// XGETBV with ECX = 0 (XCR0), encoded as bytes so that no -mxsave is needed.
static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/// Leaf 1 ECX, leaf 7 (subleaf 0) EBX, and XCR0 (0 when OSXSAVE is clear).
static void probe(uint32_t *l1ecx, uint32_t *l7ebx, uint64_t *xcr0) {
    uint32_t a, b, c, d;
    *l1ecx = 0; *l7ebx = 0; *xcr0 = 0;
    if (__get_cpuid_max(0, 0) < 1) return;
    __cpuid(1, a, b, c, d);
    *l1ecx = c;
    if (c & (1u << 27)) *xcr0 = read_xcr0();          // OSXSAVE
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        *l7ebx = b;
    }
}

int nnk_cpu_has_avx2_fma(void) {
    uint32_t l1ecx, l7ebx; uint64_t xcr0;
    probe(&l1ecx, &l7ebx, &xcr0);
    int fma = (l1ecx >> 12) & 1, avx = (l1ecx >> 28) & 1;
    int avx2 = (l7ebx >> 5) & 1;
    int ymm = (xcr0 & 0x6) == 0x6;                       // SSE + AVX state
    return fma && avx && avx2 && ymm;
}

int nnk_cpu_has_avx512_skx(void) {
    if (!nnk_cpu_has_avx2_fma()) return 0;
    uint32_t l1ecx, l7ebx; uint64_t xcr0;
    probe(&l1ecx, &l7ebx, &xcr0);
    const uint32_t need = (1u << 16)   // AVX512F
                        | (1u << 17)   // AVX512DQ
                        | (1u << 28)   // AVX512CD
                        | (1u << 30)   // AVX512BW
                        | (1u << 31);  // AVX512VL
    int zmm = (xcr0 & 0xE6) == 0xE6;                     // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
    return ((l7ebx & need) == need) && zmm;
}
#else
int nnk_cpu_has_avx2_fma(void) { return 0; }
int nnk_cpu_has_avx512_skx(void) { return 0; }
#endif

// ---- per-thread workspace -------------------------------------------------

typedef struct { float *ptr; size_t floats; } workspace_t;

static pthread_key_t workspace_key, panel_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;
static _Thread_local workspace_t workspace, panel;

static void workspace_release(void *p) { free(p); }

static pthread_key_t error_key;
static pthread_once_t error_once = PTHREAD_ONCE_INIT;
static void error_key_init(void) { pthread_key_create(&error_key, free); }

pthread_key_t nnk_error_key(void) {
    pthread_once(&error_once, error_key_init);
    return error_key;
}
static void workspace_key_init(void) {
    pthread_key_create(&workspace_key, workspace_release);
    pthread_key_create(&panel_key, workspace_release);
}

/// The buffer `w` (one of the calling thread's), grown to at least `floats`;
/// `key` frees it at thread exit.
static float *grow(workspace_t *w, pthread_key_t *key, size_t floats) {
    pthread_once(&workspace_once, workspace_key_init);
    // grow geometrically (at least 64 KiB) so a sequence of growing calls
    // reallocates only a few times
    size_t want = w->floats * 2;
    if (want < floats) want = floats;
    if (want < 16384) want = 16384;
    size_t bytes = (want * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (!p) return NULL;
    free(w->ptr);
    w->ptr = p;
    w->floats = bytes / sizeof(float);
    // the key's value is what the destructor frees at thread exit
    pthread_setspecific(*key, p);
    return p;
}

float *nnk_thread_workspace(size_t floats) {
    if (workspace.floats >= floats && workspace.ptr) return workspace.ptr;
    return grow(&workspace, &workspace_key, floats);
}

float *nnk_thread_panel(size_t floats) {
    if (panel.floats >= floats && panel.ptr) return panel.ptr;
    return grow(&panel, &panel_key, floats);
}
