// OpenBLAS's CBLAS interface, plus the kernel-table controls OpenBLAS exports in its
// DYNAMIC_ARCH builds (Debian's), used to pick the AVX-512 kernels on CPUs that OpenBLAS
// 0.3.21 does not recognise (AMD Zen 5 is detected as Prescott or Haswell).
#ifndef SWTRAIN_CBLAS_SHIM_H
#define SWTRAIN_CBLAS_SHIM_H
#include <cblas.h>
#include <stdlib.h>

extern void gotoblas_dynamic_init(void);
extern void gotoblas_dynamic_quit(void);
extern char *gotoblas_corename(void);

/// Re-selects OpenBLAS's kernel table as if OPENBLAS_CORETYPE=`core` had been set at start-up.
/// Call before any BLAS work is in flight. Returns the name of the core now in use.
static inline const char *swt_openblas_force_core(const char *core) {
    const char *previous = getenv("OPENBLAS_CORETYPE");
    gotoblas_dynamic_quit();
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_init();
    if (previous == NULL) unsetenv("OPENBLAS_CORETYPE");
    return gotoblas_corename();
}
#endif
