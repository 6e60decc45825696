// The portable-path switch: SWTRAIN_KERNELS, read once, and a per-thread override.
#include "ccpu.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// -1: not read yet; 0 native; 1 portable.
static atomic_int from_env = -1;
static _Thread_local int thread_override = -1;

int swt_kernels_portable_from_environment(void) {
    int v = atomic_load_explicit(&from_env, memory_order_relaxed);
    if (v >= 0) return v;
    const char *s = getenv("SWTRAIN_KERNELS");
    if (s == NULL || s[0] == 0 || strcmp(s, "native") == 0) v = 0;
    else if (strcmp(s, "portable") == 0) v = 1;
    else v = 0;
    int expected = -1;
    if (atomic_compare_exchange_strong(&from_env, &expected, v)) {
        if (s && s[0] && v == 0 && strcmp(s, "native") != 0)
            fprintf(stderr, "swtrain: SWTRAIN_KERNELS=%s is not \"portable\" or \"native\"; "
                            "using the native kernels (set SWTRAIN_KERNELS=portable to force "
                            "the portable ones)\n", s);
        return v;
    }
    return expected;
}

int swt_kernels_set_thread_override(int mode) {
    int previous = thread_override;
    thread_override = mode < 0 ? -1 : mode != 0;
    return previous;
}

int swt_kernels_portable(void) {
    int o = thread_override;
    return o >= 0 ? o : swt_kernels_portable_from_environment();
}

uint32_t swt_kernel_features(void) {
    return swt_kernels_portable() ? 0 : swt_cpu_features();
}
