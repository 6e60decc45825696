// LAPACKE (C interface to LAPACK), used for the SVD behind low-rank factorisation.
#ifndef SWTRAIN_CLAPACKE_SHIM_H
#define SWTRAIN_CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
