// SPDX-License-Identifier: GPL-2.0-only
/*
 * A job's gate: one fence standing for every fence a job waits for that
 * swgpu's own scheduler does not signal: the in-fence, in-syncobjs, and
 * other drivers' or user fences in the buffers' reservation objects.
 *
 * drm_sched waits for a job's dependencies without a bound, and when an
 * entity is torn down it still waits for every dependency of the jobs it
 * drops. A fence that nobody signals (a sw_sync point, a FENCE_ATTACH
 * fence whose owner went quiet) would hold a job, and everything queued
 * behind it, for as long as that fence lives. The gate bounds the wait:
 * it opens when every fence it stands for has signalled (with the first
 * error of an explicit one), when the job timeout has passed
 * (-ETIMEDOUT), or when the file's cancel fence signals at close
 * (-ECANCELED). The scheduler waits for the gate instead of those fences.
 * Fences of swgpu's own scheduler are not gated: they are bounded by the
 * same rules.
 */

#include <linux/atomic.h>
#include <linux/dma-fence.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include "swgpu_compat.h"
#include "swgpu_job.h"

/**
 * struct swgpu_gate_dep - one fence a gate waits for
 * @fence: the fence, referenced
 * @cb: the gate's callback on it, which holds a gate reference
 * @gate: the gate
 * @kind: whether its error fails the job
 * @armed: @cb was added and had not run at the time
 */
struct swgpu_gate_dep {
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	struct swgpu_gate *gate;
	enum swgpu_gate_kind kind;
	bool armed;
};

/**
 * struct swgpu_gate - see the top of the file
 * @base: the gate's fence
 * @lock: its lock
 * @pending: fences not yet signalled, plus one while arming
 * @error: first error of an explicit fence
 * @timer: opens the gate at the job timeout; holds a gate reference
 * @cancel: the file's cancel fence, with its own callback
 * @cleanup: once the gate is open, takes its callbacks off the fences
 *	that have not signalled, so that they do not hold it; not from
 *	where it opens, which may be another fence's callback, under its
 *	lock
 * @wq: where @cleanup runs: the engine's, which the module drains
 * @count: number of @deps
 * @size: room in @deps
 * @deps: the fences
 */
struct swgpu_gate {
	struct dma_fence base;
	spinlock_t lock;
	atomic_t pending;
	atomic_t error;
	struct timer_list timer;
	struct swgpu_gate_dep cancel;
	struct work_struct cleanup;
	struct workqueue_struct *wq;
	unsigned int count;
	unsigned int size;
	struct swgpu_gate_dep *deps;
};

static const char *swgpu_gate_driver_name(struct dma_fence *f)
{
	return SWGPU_DRIVER_NAME;
}

static const char *swgpu_gate_timeline_name(struct dma_fence *f)
{
	return "gate";
}

/*
 * Every callback has run or was taken off: each held a reference. The
 * fences are put here, where a fence's last reference may well go.
 */
static void swgpu_gate_release(struct dma_fence *f)
{
	struct swgpu_gate *gate = container_of(f, struct swgpu_gate, base);
	unsigned int i;

	for (i = 0; i < gate->count; i++)
		dma_fence_put(gate->deps[i].fence);
	dma_fence_put(gate->cancel.fence);
	kfree(gate->deps);
	dma_fence_free(f);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops swgpu_gate_ops = {
	.get_driver_name = swgpu_gate_driver_name,
	.get_timeline_name = swgpu_gate_timeline_name,
	.release = swgpu_gate_release,
};

static void swgpu_gate_cleanup(struct work_struct *work)
{
	struct swgpu_gate *gate = container_of(work, struct swgpu_gate,
					       cleanup);
	struct swgpu_gate_dep *dep;
	unsigned int i;

	for (i = 0; i <= gate->count; i++) {
		dep = i < gate->count ? &gate->deps[i] : &gate->cancel;
		if (dep->armed && dma_fence_remove_callback(dep->fence, &dep->cb))
			dma_fence_put(&gate->base);
	}
	dma_fence_put(&gate->base);
}

/* Open the gate once, with @error or without. */
static void swgpu_gate_open(struct swgpu_gate *gate, int error)
{
	if (!swgpu_fence_signal_once(&gate->base, &gate->lock, error))
		return;

	if (timer_delete(&gate->timer))
		dma_fence_put(&gate->base);
	dma_fence_get(&gate->base);
	queue_work(gate->wq, &gate->cleanup);
}

static void swgpu_gate_dep_signalled(struct dma_fence *fence,
				     struct dma_fence_cb *cb)
{
	struct swgpu_gate_dep *dep = container_of(cb, struct swgpu_gate_dep, cb);
	struct swgpu_gate *gate = dep->gate;

	if (dep->kind == SWGPU_GATE_EXPLICIT && fence->error)
		atomic_cmpxchg(&gate->error, 0, fence->error);
	if (atomic_dec_and_test(&gate->pending))
		swgpu_gate_open(gate, atomic_read(&gate->error));
	dma_fence_put(&gate->base);
}

static void swgpu_gate_cancelled(struct dma_fence *fence,
				 struct dma_fence_cb *cb)
{
	struct swgpu_gate *gate = container_of(cb, struct swgpu_gate, cancel.cb);

	swgpu_gate_open(gate, -ECANCELED);
	dma_fence_put(&gate->base);
}

static void swgpu_gate_expired(struct timer_list *t)
{
	struct swgpu_gate *gate = timer_container_of(gate, t, timer);

	swgpu_gate_open(gate, -ETIMEDOUT);
	dma_fence_put(&gate->base);
}

/**
 * swgpu_gate_create - start collecting the fences a job waits for
 *
 * Return: the gate, not yet a fence, or NULL without memory.
 */
struct swgpu_gate *swgpu_gate_create(void)
{
	return kzalloc(sizeof(struct swgpu_gate), GFP_KERNEL);
}

/**
 * swgpu_gate_add - make a gate wait for a fence too
 * @gate: a gate not yet armed
 * @fence: the fence; the gate takes its own reference
 * @kind: whether the fence's error fails the job
 *
 * A fence already signalled is left out (its error kept if explicit); of
 * two fences of one context only the later is kept.
 *
 * Return: 0 or -ENOMEM.
 */
int swgpu_gate_add(struct swgpu_gate *gate, struct dma_fence *fence,
		   enum swgpu_gate_kind kind)
{
	struct swgpu_gate_dep *deps;
	unsigned int i;

	if (dma_fence_is_signaled(fence)) {
		if (kind == SWGPU_GATE_EXPLICIT && fence->error)
			atomic_cmpxchg(&gate->error, 0, fence->error);
		return 0;
	}
	for (i = 0; i < gate->count; i++) {
		struct swgpu_gate_dep *dep = &gate->deps[i];

		if (dep->fence->context != fence->context)
			continue;
		if (dma_fence_is_later(fence, dep->fence)) {
			dma_fence_put(dep->fence);
			dep->fence = dma_fence_get(fence);
		}
		dep->kind = max(dep->kind, kind);
		return 0;
	}
	if (gate->count == gate->size) {
		unsigned int size = max(8u, 2 * gate->size);

		deps = krealloc_array(gate->deps, size, sizeof(*deps),
				      GFP_KERNEL);
		if (!deps)
			return -ENOMEM;
		gate->deps = deps;
		gate->size = size;
	}
	gate->deps[gate->count++] = (struct swgpu_gate_dep) {
		.fence = dma_fence_get(fence),
		.gate = gate,
		.kind = kind,
	};
	return 0;
}

/**
 * swgpu_gate_destroy - drop a gate that was never armed
 * @gate: the gate, or NULL
 */
void swgpu_gate_destroy(struct swgpu_gate *gate)
{
	unsigned int i;

	if (!gate)
		return;
	for (i = 0; i < gate->count; i++)
		dma_fence_put(gate->deps[i].fence);
	kfree(gate->deps);
	kfree(gate);
}

/**
 * swgpu_gate_arm - turn the collected fences into the gate's fence
 * @gate: the gate; consumed
 * @cancel: the file's cancel fence
 * @timeout_ms: open with -ETIMEDOUT after this long; 0: never
 * @wq: a workqueue the module drains before it goes
 * @error: set to the error of an explicit fence that had already failed
 *	when nothing is left to wait for, else 0
 *
 * Return: the gate's fence (the caller's reference), or NULL when there
 * is nothing to wait for.
 */
struct dma_fence *swgpu_gate_arm(struct swgpu_gate *gate,
				 struct dma_fence *cancel,
				 unsigned int timeout_ms,
				 struct workqueue_struct *wq, int *error)
{
	unsigned int i;

	*error = 0;
	if (!gate->count) {
		*error = atomic_read(&gate->error);
		swgpu_gate_destroy(gate);
		return NULL;
	}

	__module_get(THIS_MODULE);
	spin_lock_init(&gate->lock);
	INIT_WORK(&gate->cleanup, swgpu_gate_cleanup);
	gate->wq = wq;
	timer_setup(&gate->timer, swgpu_gate_expired, 0);
	dma_fence_init(&gate->base, &swgpu_gate_ops, &gate->lock,
		       dma_fence_context_alloc(1), 1);
	/* Held until every callback is in place: nothing opens it before. */
	atomic_set(&gate->pending, gate->count + 1);

	for (i = 0; i < gate->count; i++) {
		struct swgpu_gate_dep *dep = &gate->deps[i];

		dma_fence_get(&gate->base);
		dep->armed = true;
		if (dma_fence_add_callback(dep->fence, &dep->cb,
					   swgpu_gate_dep_signalled)) {
			dep->armed = false;
			swgpu_gate_dep_signalled(dep->fence, &dep->cb);
		}
	}

	/* Only now may it open early: the cleanup reads every @armed. */
	gate->cancel.fence = dma_fence_get(cancel);
	gate->cancel.gate = gate;
	dma_fence_get(&gate->base);
	gate->cancel.armed = true;
	if (dma_fence_add_callback(cancel, &gate->cancel.cb,
				   swgpu_gate_cancelled)) {
		gate->cancel.armed = false;
		dma_fence_put(&gate->base);
		swgpu_gate_open(gate, -ECANCELED);
	}
	if (timeout_ms) {
		dma_fence_get(&gate->base);
		mod_timer(&gate->timer, jiffies + msecs_to_jiffies(timeout_ms));
	}

	if (atomic_dec_and_test(&gate->pending))
		swgpu_gate_open(gate, atomic_read(&gate->error));
	return &gate->base;
}
