/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine's jobs, shared by the files that make them (swgpu_submit.c),
 * gate them (swgpu_gate.c) and run them (swgpu_engine.c).
 */
#ifndef _SWGPU_JOB_H_
#define _SWGPU_JOB_H_

#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <drm/gpu_scheduler.h>

#include "swgpu_drv.h"

struct mem_cgroup;
struct task_struct;

/**
 * struct swgpu_queue - one DRM file's side of the engine
 * @ref: the file and each of its jobs hold one
 * @engine: the device's engine
 * @entity: the file's drm_sched entity: its jobs, in submit order
 * @submit_lock: makes arming and pushing jobs one step, so the entity's
 *	fence seqnos follow the order jobs are pushed in
 * @cancel: signalled with -ECANCELED when the file is closed; every gate
 *	of the file's jobs waits for it too
 * @closed: the file is gone: jobs not yet run end with -ECANCELED
 * @teardown: finishes the entity once the last job is freed
 */
struct swgpu_queue {
	struct kref ref;
	struct swgpu_engine *engine;
	struct drm_sched_entity entity;
	struct mutex submit_lock;
	struct dma_fence *cancel;
	bool closed;
	struct work_struct teardown;
};

/**
 * struct swgpu_job - one accepted SUBMIT batch
 * @base: the scheduler's job; its finished fence is the job's fence
 * @queue: the submitting file's queue, referenced
 * @hw: the fence the ring signals when the job has run (the scheduler's
 *	"hardware fence"); allocated at submit, initialised by run_job
 * @run: runs the job on the engine's ring
 * @gate: the gate of the job's foreign fences, referenced, or NULL
 * @dep_error: an explicit fence (in-fence, in-syncobj) had already failed
 *	at submit with this error
 * @cmds: the commands, checked
 * @dst: each command's destination object, referenced
 * @src: each COPY's source object, referenced
 * @num_cmds: number of commands
 * @exec: its commands' execution state: bytes written, pages allocated
 * @memcg: the submitter's memory cgroup, referenced (NULL without memcg):
 *	what the job allocates is charged to it
 * @submitter: the submitting task, referenced: a fatal signal to its
 *	process cancels the job
 * @stop_lock: makes asking whether the job must stop one step, for the
 *	job's lanes ask at once
 * @stop: why the running job stopped (-ECANCELED, -ETIMEDOUT), or 0
 * @seen_bytes: the engine's byte count when the job last made progress
 * @deadline: when the running job times out unless it makes progress
 * @timeout: the job timeout it runs under, in jiffies (0: none)
 */
struct swgpu_job {
	struct drm_sched_job base;
	struct swgpu_queue *queue;
	struct dma_fence *hw;
	struct work_struct run;
	struct dma_fence *gate;
	int dep_error;
	struct drm_swgpu_cmd *cmds;
	struct swgpu_object **dst;
	struct swgpu_object **src;
	unsigned int num_cmds;
	struct swgpu_exec exec;
	struct mem_cgroup *memcg;
	struct task_struct *submitter;
	spinlock_t stop_lock;
	int stop;
	u64 seen_bytes;
	unsigned long deadline;
	unsigned long timeout;
};

static inline struct swgpu_job *to_swgpu_job(struct drm_sched_job *job)
{
	return container_of(job, struct swgpu_job, base);
}

/* swgpu_engine.c */
unsigned int swgpu_job_timeout_ms(void);
struct dma_fence *swgpu_plain_fence_alloc(void);
void swgpu_job_free(struct swgpu_job *job);
bool swgpu_is_engine_fence(struct swgpu_engine *engine, struct dma_fence *f);

/* swgpu_gate.c */

/**
 * enum swgpu_gate_kind - what a fence means to the gate that waits for it
 * @SWGPU_GATE_IMPLICIT: a fence from a buffer; its error does not matter
 * @SWGPU_GATE_EXPLICIT: the in-fence or an in-syncobj; its error fails
 *	the job
 */
enum swgpu_gate_kind {
	SWGPU_GATE_IMPLICIT,
	SWGPU_GATE_EXPLICIT,
};

struct swgpu_gate;
struct swgpu_gate *swgpu_gate_create(void);
int swgpu_gate_add(struct swgpu_gate *gate, struct dma_fence *fence,
		   enum swgpu_gate_kind kind);
struct dma_fence *swgpu_gate_arm(struct swgpu_gate *gate,
				 struct dma_fence *cancel,
				 unsigned int timeout_ms,
				 struct workqueue_struct *wq, int *error);
void swgpu_gate_destroy(struct swgpu_gate *gate);

#endif /* _SWGPU_JOB_H_ */
