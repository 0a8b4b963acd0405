// SPDX-License-Identifier: MIT
/*
 * bench_epoch: what util/epoch.h costs.
 *
 *  - section: an epoch_enter() / epoch_exit() pair (the price a walk pays);
 *  - retire_alone: epoch_retire_node() with no other thread registered
 *    (the callback runs at once: the price a single-threaded unmap pays
 *    per table it frees);
 *  - retire_queued: the same with another thread registered, the queue
 *    and its polls (one per 64 retirements) included, per retirement;
 *  - poll_idle / poll_busy: a grace period (retire + epoch_poll) with one
 *    other registered thread, asleep or walking in a loop of sections on
 *    another CPU (then membarrier interrupts it).
 *
 * UIOMMU_EPOCH=fence runs the same with reader fences instead of
 * membarrier (then "section" includes an mfence).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/bench.h"
#include "util/epoch.h"

static int stop, busy;
static unsigned long ran;

static void count(void *arg)
{
	ran++;
}

static void *other(void *arg)
{
	epoch_enter();
	epoch_exit();
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&busy, __ATOMIC_ACQUIRE)) {
			for (int i = 0; i < 1000; i++) {
				epoch_enter();
				bench_keep(i);
				epoch_exit();
			}
		} else {
			usleep(1000);
		}
	}
	return NULL;
}

static void report(const char *name, unsigned int batch, double *v, unsigned int n)
{
	struct bench_stats st;
	struct bench_json j;

	bench_stats(v, n, &st);
	bj_begin(&j, "epoch");
	bj_param_str(&j, "op", name);
	bj_param_str(&j, "writer", epoch_uses_membarrier() ? "membarrier" : "fence");
	bj_param_u64(&j, "batch", batch);
	bj_stats(&j, &st);
	bj_end(&j);
}

/* @n samples of @batch calls of @op. */
static void run(const char *name, unsigned int batch, unsigned int n, void (*op)(unsigned int))
{
	double *v;

	if (!bench_want(name))
		return;
	v = malloc(n * sizeof(*v));
	for (unsigned int i = 0; i < 4; i++)
		op(batch);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_ticks();

		op(batch);
		v[i] = bench_ns(bench_ticks() - t0) / batch;
	}
	report(name, batch, v, n);
	free(v);
}

static void op_section(unsigned int batch)
{
	for (unsigned int i = 0; i < batch; i++) {
		epoch_enter();
		bench_keep(i);
		epoch_exit();
	}
}

static struct epoch_node nodes[256];

static void op_retire(unsigned int batch)
{
	for (unsigned int i = 0; i < batch; i++)
		epoch_retire_node(&nodes[i % 256], count, NULL);
	/* Whatever waits runs before its node is used again. */
	if (epoch_pending())
		epoch_barrier();
}

static void op_grace(unsigned int batch)
{
	for (unsigned int i = 0; i < batch; i++) {
		epoch_retire_node(&nodes[0], count, NULL);
		while (epoch_pending())
			epoch_poll();
	}
}

int main(int argc, char **argv)
{
	unsigned int n = bench_samples(2000, 50);
	pthread_t th;

	pthread_attr_t attr;
	cpu_set_t cpus;
	int me;

	bench_init(argc, argv, "bench_epoch");
	run("section", 1000, n, op_section);
	run("retire_alone", 1000, n, op_retire);
	/* The other thread on any other CPU (bench_init pinned this one). */
	me = sched_getcpu();
	CPU_ZERO(&cpus);
	for (int c = 0; c < CPU_SETSIZE && c < sysconf(_SC_NPROCESSORS_ONLN); c++)
		if (c != me)
			CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	if (CPU_COUNT(&cpus))
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	pthread_create(&th, &attr, other, NULL);
	pthread_attr_destroy(&attr);
	usleep(10000);
	run("retire_queued", 64, n, op_retire);
	run("poll_idle", 16, n / 4 + 1, op_grace);
	__atomic_store_n(&busy, 1, __ATOMIC_RELEASE);
	usleep(10000);
	run("poll_busy", 16, n / 4 + 1, op_grace);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	return ran ? 0 : 1;
}
