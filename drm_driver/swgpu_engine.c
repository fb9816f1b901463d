// SPDX-License-Identifier: GPL-2.0-only
/*
 * The software engine on the kernel's GPU scheduler (drm_sched).
 *
 * The device has one scheduler and one ring: an ordered workqueue that
 * runs one job at a time, as a GPU with one ring would. Each DRM file is
 * a drm_sched entity, so its jobs reach the ring in submit order and
 * files take turns. The scheduler waits for a job's dependencies (the
 * fences of swgpu's own earlier jobs, and the job's gate standing for
 * every other fence, swgpu_gate.c), hands it to run_job, which puts it
 * on the ring; the ring runs its commands through the kernel CPU access
 * contract (swgpu_engine_exec.c), on several CPUs at once
 * (swgpu_engine_lanes.c), and signals the job's hardware fence,
 * after which the scheduler signals the job's finished fence: the fence
 * that buffers, sync_files and syncobjs hold.
 *
 * A job is stopped with -ECANCELED when its file is closed or its
 * submitter is killed, and with -ETIMEDOUT when it has waited for its
 * fences for job_timeout_ms (the gate) or has run that long without
 * writing a byte. The pages a job allocates are charged to its
 * submitter's memory cgroup, and allocated so that they fail rather than
 * invoke the OOM killer.
 */

#include <linux/atomic.h>
#include <linux/dma-fence.h>
#include <linux/jiffies.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <drm/drm_gem.h>
#include <drm/swgpu_drm.h>

#include "swgpu_compat.h"
#include "swgpu_job.h"

/*
 * How many jobs the scheduler may hand to the ring before the first of
 * them is done: enough to keep the ring busy, few enough that a closed
 * file's jobs are not stuck behind a long line.
 */
#define SWGPU_RING_CREDITS	16

static unsigned int job_timeout_ms = 10000;
module_param(job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms,
		 "A SUBMIT job that waits this long for its fences, or runs this long without writing, ends with -ETIMEDOUT; 0: never (default: 10000)");

/**
 * swgpu_job_timeout_ms - the job timeout now in force
 *
 * Return: job_timeout_ms; 0 for none.
 */
unsigned int swgpu_job_timeout_ms(void)
{
	return READ_ONCE(job_timeout_ms);
}

/* ---- plain fences: the ring's, and each file's cancel fence ---- */

/**
 * struct swgpu_plain_fence - a fence signalled by hand
 * @base: the fence
 * @lock: its lock
 * @timeline: its timeline's name
 */
struct swgpu_plain_fence {
	struct dma_fence base;
	spinlock_t lock;
	const char *timeline;
};

static const char *swgpu_plain_driver_name(struct dma_fence *f)
{
	return SWGPU_DRIVER_NAME;
}

static const char *swgpu_plain_timeline_name(struct dma_fence *f)
{
	return container_of(f, struct swgpu_plain_fence, base)->timeline;
}

static void swgpu_plain_release(struct dma_fence *f)
{
	dma_fence_free(f);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops swgpu_plain_fence_ops = {
	.get_driver_name = swgpu_plain_driver_name,
	.get_timeline_name = swgpu_plain_timeline_name,
	.release = swgpu_plain_release,
};

/**
 * swgpu_plain_fence_alloc - memory for a plain fence, initialised later
 *
 * A job's hardware fence is allocated at submit: run_job is on the way
 * to memory reclaim's waits and must not allocate.
 *
 * Return: an uninitialised fence, or NULL.
 */
struct dma_fence *swgpu_plain_fence_alloc(void)
{
	struct swgpu_plain_fence *fence;

	fence = kzalloc(sizeof(*fence), GFP_KERNEL);
	return fence ? &fence->base : NULL;
}

static void swgpu_plain_fence_init(struct dma_fence *f, const char *timeline,
				   u64 context, u64 seqno)
{
	struct swgpu_plain_fence *fence =
		container_of(f, struct swgpu_plain_fence, base);

	__module_get(THIS_MODULE);
	spin_lock_init(&fence->lock);
	fence->timeline = timeline;
	dma_fence_init(f, &swgpu_plain_fence_ops, &fence->lock, context, seqno);
}

/**
 * swgpu_is_engine_fence - whether a fence is one of this engine's jobs'
 * @engine: the engine
 * @f: the fence
 *
 * Return: true for the scheduled or finished fence of a job of @engine.
 */
bool swgpu_is_engine_fence(struct swgpu_engine *engine, struct dma_fence *f)
{
	struct drm_sched_fence *s_fence = to_drm_sched_fence(f);

	return s_fence && s_fence->sched == &engine->sched;
}

/* ---- running jobs ---- */

/*
 * Whether the submitter's process was killed: a fatal signal pending, or a
 * group exit that a signal caused (the OOM killer's SIGKILL included; the
 * low 7 bits of the group's exit code hold the killing signal, and are 0
 * after exit_group()). A normal exit does not cancel: the file, if shared,
 * still wants the job. The fields are read without the signal lock; a
 * stale value only delays the cancellation to the next check.
 */
static bool swgpu_job_submitter_killed(struct swgpu_job *job)
{
	struct signal_struct *sig = job->submitter->signal;

	if (fatal_signal_pending(job->submitter))
		return true;
	return (READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT) &&
	       (READ_ONCE(sig->group_exit_code) & 0x7f);
}

/*
 * Whether the job must stop now, and why (@job->stop). Progress is any
 * byte written: a job that writes is not hung, however long it takes,
 * so a FILL larger than memory still completes at the speed of swap.
 */
static bool swgpu_job_must_stop(struct swgpu_job *job)
{
	u64 bytes = atomic64_read(&job->exec.bytes);
	bool stop = false;

	/* Every lane of the job asks. */
	spin_lock(&job->stop_lock);
	if (READ_ONCE(job->queue->closed) || swgpu_job_submitter_killed(job)) {
		job->stop = -ECANCELED;
		stop = true;
	} else if (bytes != job->seen_bytes) {
		job->seen_bytes = bytes;
		job->deadline = jiffies + job->timeout;
	} else if (job->timeout && time_after(jiffies, job->deadline)) {
		job->stop = -ETIMEDOUT;
		stop = true;
	}
	spin_unlock(&job->stop_lock);
	return stop;
}

/* swgpu_exec's question, after every run of pages a lane writes. */
static bool swgpu_exec_cancelled(struct swgpu_exec *x)
{
	return swgpu_job_must_stop(container_of(x, struct swgpu_job, exec));
}

/*
 * debugfs hang injection: the job stalls without writing, as a hung
 * engine would, until it is cancelled or times out.
 */
static void swgpu_job_hang(struct swgpu_job *job)
{
	struct swgpu_engine *engine = job->queue->engine;

	while (!swgpu_job_must_stop(job))
		wait_event_idle_timeout(engine->hang_wait,
					READ_ONCE(job->queue->closed),
					msecs_to_jiffies(100));
}

/* Why the job must not run at all, or 0. */
static int swgpu_job_precheck(struct swgpu_job *job)
{
	if (job->dep_error)
		return job->dep_error;
	/* The gate has opened: the scheduler waited for it. */
	if (job->gate && job->gate->error)
		return job->gate->error;
	if (swgpu_job_must_stop(job))
		return job->stop;
	return 0;
}

static void swgpu_job_run(struct work_struct *work)
{
	struct swgpu_job *job = container_of(work, struct swgpu_job, run);
	struct swgpu_engine *engine = job->queue->engine;
	struct dma_fence *hw = job->hw;
	struct mem_cgroup *old_memcg;
	bool hang;
	int ret;

	atomic_inc(&engine->running);
	job->exec.cancelled = swgpu_exec_cancelled;
	job->exec.memcg = job->memcg;
	job->exec.wq = engine->lanes;
	job->timeout = msecs_to_jiffies(swgpu_job_timeout_ms());
	job->deadline = jiffies + job->timeout;
	/* Taken even by a job that will not run, so none is left over. */
	hang = atomic_add_unless(&engine->hang_next, -1, 0);
	ret = swgpu_job_precheck(job);
	if (!ret && hang) {
		swgpu_job_hang(job);
		ret = job->stop;
	}

	/* Allocate as the submitter would have: in its memory cgroup. */
	old_memcg = set_active_memcg(job->memcg);
	if (!ret)
		ret = swgpu_exec_run(&job->exec, job->cmds, job->dst, job->src,
				     job->num_cmds);
	set_active_memcg(old_memcg);
	if (ret == -ECANCELED && job->stop)
		ret = job->stop;

	if (ret) {
		/*
		 * Holes the job filled become holes again: each byte it
		 * was to write holds its old value or the job's, and the
		 * memory of a job that did not fit comes back at once.
		 */
		swgpu_alloc_log_release(&job->exec.allocated);
		/* Set on both: before 6.4 the scheduler does not copy it. */
		dma_fence_set_error(&job->base.s_fence->finished, ret);
		dma_fence_set_error(hw, ret);
		atomic64_inc(&engine->jobs_failed);
		if (ret == -ETIMEDOUT)
			atomic64_inc(&engine->jobs_timedout);
	} else {
		atomic64_inc(&engine->jobs_done);
	}
	atomic_dec(&engine->running);
	atomic_dec(&engine->queued);
	/* The job may be freed from here on. */
	dma_fence_signal(hw);
}

static struct dma_fence *swgpu_sched_run_job(struct drm_sched_job *sched_job)
{
	struct swgpu_job *job = to_swgpu_job(sched_job);
	struct swgpu_engine *engine = job->queue->engine;

	/* run_job calls are serialised: the seqnos follow the ring's order. */
	swgpu_plain_fence_init(job->hw, "ring", engine->fence_context,
			       ++engine->seqno);
	INIT_WORK(&job->run, swgpu_job_run);
	queue_work(engine->ring, &job->run);
	/* The scheduler's reference; the job's pointer lives as long. */
	return dma_fence_get(job->hw);
}

static void swgpu_sched_free_job(struct drm_sched_job *sched_job)
{
	swgpu_job_free(to_swgpu_job(sched_job));
}

static const struct drm_sched_backend_ops swgpu_sched_ops = {
	.run_job = swgpu_sched_run_job,
	.free_job = swgpu_sched_free_job,
};

static void swgpu_queue_put(struct swgpu_queue *queue);

/**
 * swgpu_job_free - drop a job and everything it holds
 * @job: a job freshly allocated, failed at submit, or done
 */
void swgpu_job_free(struct swgpu_job *job)
{
	unsigned int i;

	if (job->base.s_fence)
		drm_sched_job_cleanup(&job->base);
	for (i = 0; i < job->num_cmds; i++) {
		if (job->dst && job->dst[i])
			drm_gem_object_put(&job->dst[i]->base);
		if (job->src && job->src[i])
			drm_gem_object_put(&job->src[i]->base);
	}
	dma_fence_put(job->gate);
	if (job->hw && job->hw->ops)
		dma_fence_put(job->hw);
	else
		kfree(job->hw);
	swgpu_alloc_log_fini(&job->exec.allocated);
	mem_cgroup_put(job->memcg);
	if (job->submitter)
		put_task_struct(job->submitter);
	kvfree(job->cmds);
	kfree(job->dst);
	kfree(job->src);
	if (job->queue)
		swgpu_queue_put(job->queue);
	kfree(job);
}

/* ---- per-file queues ---- */

/*
 * The last job of a closed file is gone: the entity is idle and empty,
 * so finishing it drops nothing, and waits for nothing long.
 */
static void swgpu_queue_teardown(struct work_struct *work)
{
	struct swgpu_queue *queue = container_of(work, struct swgpu_queue,
						 teardown);

	drm_sched_entity_fini(&queue->entity);
	dma_fence_put(queue->cancel);
	mutex_destroy(&queue->submit_lock);
	kfree(queue);
	/* On @wq, which the module's exit drains before it goes. */
	module_put(THIS_MODULE);
}

static void swgpu_queue_release(struct kref *ref)
{
	struct swgpu_queue *queue = container_of(ref, struct swgpu_queue, ref);

	/* Maybe in the scheduler's own free_job: finish the entity apart. */
	queue_work(queue->engine->wq, &queue->teardown);
}

static void swgpu_queue_put(struct swgpu_queue *queue)
{
	kref_put(&queue->ref, swgpu_queue_release);
}

/**
 * swgpu_queue_create - give a DRM file its scheduler entity
 * @engine: the device's engine
 *
 * Return: the queue, or NULL without memory.
 */
struct swgpu_queue *swgpu_queue_create(struct swgpu_engine *engine)
{
	struct drm_gpu_scheduler *sched = &engine->sched;
	struct swgpu_queue *queue;

	queue = kzalloc(sizeof(*queue), GFP_KERNEL);
	if (!queue)
		return NULL;
	queue->cancel = swgpu_plain_fence_alloc();
	if (!queue->cancel ||
	    drm_sched_entity_init(&queue->entity, DRM_SCHED_PRIORITY_NORMAL,
				  &sched, 1, NULL)) {
		kfree(queue->cancel);
		kfree(queue);
		return NULL;
	}
	swgpu_plain_fence_init(queue->cancel, "file-close",
			       dma_fence_context_alloc(1), 1);
	/* An entity outlives its file until its last job: hold the code. */
	__module_get(THIS_MODULE);
	kref_init(&queue->ref);
	queue->engine = engine;
	mutex_init(&queue->submit_lock);
	INIT_WORK(&queue->teardown, swgpu_queue_teardown);
	return queue;
}

/**
 * swgpu_queue_close - the file is gone: cancel what has not run
 * @queue: the file's queue
 *
 * Jobs not yet run end with -ECANCELED without touching their buffers,
 * as soon as the fences of swgpu's own jobs they wait for have signalled:
 * their gates open at once. A running job stops within its window.
 * Nothing waits here.
 */
void swgpu_queue_close(struct swgpu_queue *queue)
{
	WRITE_ONCE(queue->closed, true);
	dma_fence_set_error(queue->cancel, -ECANCELED);
	dma_fence_signal(queue->cancel);
	wake_up_all(&queue->engine->hang_wait);
	swgpu_queue_put(queue);
}

/* ---- the device's engine ---- */

/**
 * swgpu_engine_init - start the device's engine
 * @engine: the engine
 * @dev: the device its scheduler reports against
 *
 * Return: 0 or a negative errno.
 */
int swgpu_engine_init(struct swgpu_engine *engine, struct device *dev)
{
	struct drm_sched_init_args args = {
		.ops = &swgpu_sched_ops,
		SWGPU_SCHED_NUM_RQS
		.credit_limit = SWGPU_RING_CREDITS,
		/* Jobs are timed by the ring itself: see the top. */
		.timeout = MAX_SCHEDULE_TIMEOUT,
		.name = SWGPU_DRIVER_NAME,
		.dev = dev,
	};
	int ret;

	engine->fence_context = dma_fence_context_alloc(1);
	init_waitqueue_head(&engine->hang_wait);
	/* Unbound: a job is long, CPU-heavy work, not a per-CPU chore. */
	engine->ring = alloc_ordered_workqueue("swgpu-ring", WQ_UNBOUND);
	engine->wq = alloc_workqueue("swgpu-engine", WQ_UNBOUND, 0);
	/* A job's helper lanes (swgpu_engine_lanes.c), apart from chores. */
	engine->lanes = alloc_workqueue("swgpu-lanes", WQ_UNBOUND, 0);
	if (!engine->ring || !engine->wq || !engine->lanes) {
		ret = -ENOMEM;
		goto err;
	}
	ret = drm_sched_init(&engine->sched, &args);
	if (ret)
		goto err;
	return 0;

err:
	if (engine->ring)
		destroy_workqueue(engine->ring);
	if (engine->wq)
		destroy_workqueue(engine->wq);
	if (engine->lanes)
		destroy_workqueue(engine->lanes);
	return ret;
}

/**
 * swgpu_engine_fini - stop the device's engine, after its last job
 * @engine: the engine
 *
 * No file is left: every entity is finished or about to be, on @wq.
 */
void swgpu_engine_fini(struct swgpu_engine *engine)
{
	destroy_workqueue(engine->wq);
	drm_sched_fini(&engine->sched);
	destroy_workqueue(engine->ring);
	destroy_workqueue(engine->lanes);
}

/**
 * swgpu_engine_hang_next - make the next job that runs hang
 * @engine: the engine
 *
 * Fault injection for the timeout's tests (debugfs swgpu_engine_hang):
 * the job stalls without writing until it times out or is cancelled.
 */
void swgpu_engine_hang_next(struct swgpu_engine *engine)
{
	atomic_inc(&engine->hang_next);
}

/**
 * swgpu_engine_debugfs_show - the engine's counters
 * @m: the debugfs file
 * @engine: the engine
 */
void swgpu_engine_debugfs_show(struct seq_file *m, struct swgpu_engine *engine)
{
	seq_printf(m, "queued %d\nrunning %d\njobs_done %lld\njobs_failed %lld\njobs_timedout %lld\nbytes %lld\n",
		   atomic_read(&engine->queued),
		   atomic_read(&engine->running),
		   atomic64_read(&engine->jobs_done),
		   atomic64_read(&engine->jobs_failed),
		   atomic64_read(&engine->jobs_timedout),
		   atomic64_read(&engine->bytes));
	seq_printf(m, "scheduler %s\nring_credits %d/%u\njob_timeout_ms %u\nhang_next %d\nlanes %u\n",
		   engine->sched.name, swgpu_sched_credits(&engine->sched),
		   SWGPU_RING_CREDITS, swgpu_job_timeout_ms(),
		   atomic_read(&engine->hang_next), swgpu_exec_lanes());
}
