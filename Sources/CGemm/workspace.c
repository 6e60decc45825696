/* Per-thread scratch buffers shared by the kernel files. */
#include <stdlib.h>
#include "simd.h"

static _Thread_local float *buffers[CGEMM_WORKSPACES];
static _Thread_local size_t capacities[CGEMM_WORKSPACES];

float *cgemm_workspace(int slot, size_t count)
{
    if (count > capacities[slot]) {
        free(buffers[slot]);
        size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
        buffers[slot] = aligned_alloc(64, bytes);
        capacities[slot] = buffers[slot] ? bytes / sizeof(float) : 0;
    }
    return buffers[slot];
}
