#ifndef CGEMM_CPOOL_H
#define CGEMM_CPOOL_H

/// One small process-wide thread pool with static partitioning, shared by swtrain's own
/// kernels (the SGEMMs here, attention, layer norm, the optimizer).
///
/// `swt_pool_run(ntasks, fn, ctx)` calls `fn(ctx, t)` once for every task t in [0, ntasks).
/// The tasks are split into min(threads, ntasks) contiguous parts, part p holding tasks
/// [p * ntasks / parts, (p + 1) * ntasks / parts); the calling thread runs part 0, worker p
/// part p, except that the caller, done with part 0, takes (and runs in order) every part
/// whose worker has not started it yet, so a job never waits for a sleeping or descheduled
/// worker; the call returns when every task is done. Which thread runs a task
/// never changes what the task computes: a kernel that splits its work into tasks whose
/// boundaries depend only on the problem (not on the thread count) gives bit-identical
/// results at any thread count. Called from inside a task (nested), from a second thread
/// while the pool is busy, with one thread or with 2^20 tasks or more, it runs the tasks in
/// order on the caller.
/// Workers inherit the caller's kernel-path override (CCPU's thread-local portable switch).

/// A task: `ctx` as passed to `swt_pool_run`, `task` in [0, ntasks).
typedef void (*swt_pool_fn)(void *ctx, long task);

/// Runs tasks 0..<ntasks over the pool (see above).
void swt_pool_run(long ntasks, swt_pool_fn fn, void *ctx);

/// Sets the pool's thread count (the caller included), clamped to [1, 256]. Starts workers
/// as needed (they sleep when idle); never while a `swt_pool_run` is in flight.
void swt_pool_set_threads(int n);

/// The pool's thread count (1 until `swt_pool_set_threads`).
int swt_pool_threads(void);

/// 1 while the calling thread runs a pool task (where nested calls run serially).
int swt_pool_in_task(void);

/// The cores this process may run on (sched_getaffinity), at least 1.
int swt_affinity_cores(void);

#endif
