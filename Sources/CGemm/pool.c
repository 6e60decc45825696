/* The process-wide thread pool (cpool.h): static parts, a generation counter, workers that
 * spin briefly and then sleep on a condition variable. The tasks of a part are taken one at a
 * time (a compare-and-swap on the part's cursor, which holds the job's generation and the next
 * task): by the part's worker, or by the caller once it is done with part 0, so a job never
 * waits for a worker that is asleep or not given a core on a loaded machine, only for the
 * tasks already running. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "cpool.h"
#include "ccpu.h"

#define POOL_MAX 256
/* Spin iterations before a waiting thread sleeps (a few tens of microseconds): kernels call
 * the pool back to back, and a wake-up through the kernel costs more than that. */
#define POOL_SPIN 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;   /* one job at a time */

static atomic_ulong generation;      /* bumped for every job */
/* mail[i]: the generation of the last job that has a part for worker i. A worker reads the
 * job only after its own mail says so; the job cannot change before that part is done. */
static atomic_ulong mail[POOL_MAX];
/* cursor[p]: the job's generation, the end of part p and its next task not yet taken. */
static atomic_ulong cursor[POOL_MAX];
static atomic_long remaining;        /* tasks of parts 1... of the current job not yet done */
static int started;                  /* worker threads started (indices 1...started) */
static atomic_int threads = 1;

static struct {
    swt_pool_fn fn;
    void *ctx;
    long ntasks;
    int parts;
    int override;                    /* the caller's kernel-path override */
} job;

static _Thread_local int in_task;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* A cursor: generation (24 bits) | end of the part (20 bits) | next task (20 bits). The end
 * is in the cursor, not read from `job`, which the next job may be rewriting. */
#define TASK_BITS 20
#define TASK_MASK ((1UL << TASK_BITS) - 1)
#define GEN_MASK ((1UL << (64 - 2 * TASK_BITS)) - 1)

static inline unsigned long make_cursor(unsigned long g, long end, long next)
{
    return ((g & GEN_MASK) << (2 * TASK_BITS)) | ((unsigned long)end << TASK_BITS) | (unsigned long)next;
}

/* Takes the next task of part `part` of job `g` into *task; 0 when the part has none left or
 * the job is over (the generation in the cursor no longer matches, so a worker woken late for
 * an old job never takes a newer job's task). */
static int take(int part, unsigned long g, long *task)
{
    unsigned long v = atomic_load_explicit(&cursor[part], memory_order_acquire);
    for (;;) {
        if ((v >> (2 * TASK_BITS)) != (g & GEN_MASK)) return 0;
        long t = (long)(v & TASK_MASK), end = (long)((v >> TASK_BITS) & TASK_MASK);
        if (t >= end) return 0;
        if (atomic_compare_exchange_weak_explicit(&cursor[part], &v, v + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *task = t;
            return 1;
        }
    }
}

/* Runs the tasks of part `part` that are still free; returns how many. */
static long run_free_tasks(int part, unsigned long g)
{
    long t, n = 0;
    while (take(part, g, &t)) {
        job.fn(job.ctx, t);
        n++;
    }
    return n;
}

static void *worker(void *arg)
{
    int index = (int)(long)arg;
    in_task = 1;
    /* 0, not a load: a job may be posted before this thread first runs. */
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&mail[index], memory_order_acquire)) == seen && spins < POOL_SPIN) {
            cpu_relax();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&mu);
            while ((g = atomic_load_explicit(&mail[index], memory_order_acquire)) == seen)
                pthread_cond_wait(&work_cv, &mu);
            pthread_mutex_unlock(&mu);
        }
        seen = g;
        long t;
        while (take(index, g, &t)) {
            int previous = swt_kernels_set_thread_override(job.override);
            job.fn(job.ctx, t);
            swt_kernels_set_thread_override(previous);
            if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel) == 1) {
                pthread_mutex_lock(&mu);
                pthread_cond_signal(&done_cv);
                pthread_mutex_unlock(&mu);
            }
        }
    }
    return NULL;
}

void swt_pool_set_threads(int n)
{
    if (n < 1) n = 1;
    if (n > POOL_MAX) n = POOL_MAX;
    pthread_mutex_lock(&run_mu);
    while (started < n - 1) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int ok = pthread_create(&tid, &attr, worker, (void *)(long)(started + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        started++;
    }
    atomic_store(&threads, started + 1 < n ? started + 1 : n);
    pthread_mutex_unlock(&run_mu);
}

int swt_pool_threads(void) { return atomic_load(&threads); }

int swt_pool_in_task(void) { return in_task; }

/* The tasks on this thread, in order. They count as being in a task, so a call they nest runs
 * serially too (a job of one task must not start a parallel job from inside its task: its body
 * was written for one thread). */
static void run_serial(long ntasks, swt_pool_fn fn, void *ctx)
{
    int outer = in_task;
    in_task = 1;
    for (long t = 0; t < ntasks; t++) fn(ctx, t);
    in_task = outer;
}

void swt_pool_run(long ntasks, swt_pool_fn fn, void *ctx)
{
    if (ntasks <= 0) return;
    int n = atomic_load(&threads);
    if (n <= 1 || ntasks == 1 || ntasks > (long)TASK_MASK || in_task || pthread_mutex_trylock(&run_mu) != 0) {
        run_serial(ntasks, fn, ctx);
        return;
    }
    int parts = ntasks < n ? (int)ntasks : n;
    int previous = swt_kernels_set_thread_override(-1);
    swt_kernels_set_thread_override(previous);
    job.fn = fn;
    job.ctx = ctx;
    job.ntasks = ntasks;
    job.parts = parts;
    job.override = previous;
    atomic_store_explicit(&remaining, ntasks - ntasks / parts, memory_order_relaxed);
    unsigned long g = atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed) + 1;
    for (int i = 1; i < parts; i++)
        atomic_store_explicit(&cursor[i], make_cursor(g, ntasks * (i + 1) / parts, ntasks * i / parts),
                              memory_order_release);
    pthread_mutex_lock(&mu);
    for (int i = 1; i < parts; i++) atomic_store_explicit(&mail[i], g, memory_order_release);
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&mu);

    in_task = 1;
    for (long t = 0; t < ntasks / parts; t++) fn(ctx, t);
    for (int i = 1; i < parts; i++) {
        long n = run_free_tasks(i, g);
        if (n) atomic_fetch_sub_explicit(&remaining, n, memory_order_acq_rel);
    }
    in_task = 0;

    int spins = 0;
    while (atomic_load_explicit(&remaining, memory_order_acquire) != 0 && spins < POOL_SPIN) {
        cpu_relax();
        spins++;
    }
    if (atomic_load_explicit(&remaining, memory_order_acquire) != 0) {
        pthread_mutex_lock(&mu);
        while (atomic_load_explicit(&remaining, memory_order_acquire) != 0)
            pthread_cond_wait(&done_cv, &mu);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_unlock(&run_mu);
}

int swt_affinity_cores(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n < 1 ? 1 : n;
}
