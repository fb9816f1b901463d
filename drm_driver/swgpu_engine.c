// SPDX-License-Identifier: GPL-2.0-only
/*
 * The software engine: SUBMIT turns a batch of FILL and COPY commands into
 * a job that runs on a kernel worker, with a real fence.
 *
 * Each DRM file has a queue: its jobs run one after the other, in submit
 * order, so one fence context per file is honest. At submit the job
 * records the fences already on its buffers (readers wait for writers,
 * writers for everyone) and then puts its own fence into every buffer's
 * reservation object, so everything that syncs implicitly waits for it.
 * The worker waits for the recorded fences, never for the reservation
 * object itself, which already holds the job's own fence.
 *
 * Jobs touch buffers only through the kernel CPU access contract, one
 * window at a time (swgpu_engine_exec.c). The pages a job allocates are
 * charged to its submitter's memory cgroup, and allocated so that they
 * fail rather than invoke the OOM killer: a job that does not fit fails
 * with -ENOMEM and gives back the pages it allocated.
 */

#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/swgpu_drm.h>

#include "swgpu_drv.h"

/**
 * struct swgpu_queue - one DRM file's job queue
 * @ref: the file, each queued run of @work, and each job fence hold one
 *	(the fences use @fence_lock, and sync_files keep them long after)
 * @engine: the device's engine
 * @lock: protects @jobs
 * @jobs: submitted jobs not yet started, oldest first
 * @work: runs @jobs in order; never runs concurrently with itself
 * @submit_lock: makes fence seqnos follow queue order
 * @context: fence context of this file's jobs
 * @seqno: last seqno given out
 * @fence_lock: lock of this file's job fences
 * @wait: where a job waits for its dependencies or for @closed
 * @closed: the file is gone: jobs not yet run are cancelled
 * @rcu: frees the queue after lockless fence readers are done
 */
struct swgpu_queue {
	struct kref ref;
	struct swgpu_engine *engine;
	spinlock_t lock;
	struct list_head jobs;
	struct work_struct work;
	struct mutex submit_lock;
	u64 context;
	u64 seqno;
	spinlock_t fence_lock;
	wait_queue_head_t wait;
	bool closed;
	struct rcu_head rcu;
};

struct swgpu_job;

/**
 * struct swgpu_dep - a fence a job waits for
 * @fence: the fence, referenced
 * @cb: its callback, counting @job's dependencies down
 * @job: the waiting job
 */
struct swgpu_dep {
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	struct swgpu_job *job;
};

/**
 * struct swgpu_job - one accepted SUBMIT batch
 * @fence: signalled when the job is done, with its error if it failed
 * @link: entry in the queue's job list
 * @queue: the queue it runs on
 * @cmds: the commands, checked
 * @dst: each command's destination object, referenced
 * @src: each COPY's source object, referenced
 * @num_cmds: number of commands
 * @deps: fences to wait for; deps[0] is the in-fence if there is one
 * @num_deps: number of @deps
 * @has_in_fence: deps[0] is the explicit in-fence, whose error fails
 *	the job
 * @pending: dependencies not yet signalled
 * @exec: its commands' execution state: bytes written, pages allocated
 * @memcg: the submitter's memory cgroup, referenced (NULL without memcg):
 *	what the job allocates is charged to it
 * @submitter: the submitting task, referenced: a fatal signal to its
 *	process cancels the job
 */
struct swgpu_job {
	struct dma_fence fence;
	struct list_head link;
	struct swgpu_queue *queue;
	struct drm_swgpu_cmd *cmds;
	struct swgpu_object **dst;
	struct swgpu_object **src;
	unsigned int num_cmds;
	struct swgpu_dep *deps;
	unsigned int num_deps;
	bool has_in_fence;
	atomic_t pending;
	struct swgpu_exec exec;
	struct mem_cgroup *memcg;
	struct task_struct *submitter;
};

static const char *swgpu_job_driver_name(struct dma_fence *f)
{
	return SWGPU_DRIVER_NAME;
}

static const char *swgpu_job_timeline_name(struct dma_fence *f)
{
	return "engine";
}

static void swgpu_queue_put(struct swgpu_queue *queue);

static void swgpu_job_release(struct dma_fence *f)
{
	struct swgpu_job *job = container_of(f, struct swgpu_job, fence);
	struct swgpu_queue *queue = job->queue;

	/* The job's own memory: everything else went when it finished. */
	dma_fence_free(&job->fence);
	/* Only now may the fence's lock, in the queue, go. */
	swgpu_queue_put(queue);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops swgpu_job_fence_ops = {
	.get_driver_name = swgpu_job_driver_name,
	.get_timeline_name = swgpu_job_timeline_name,
	.release = swgpu_job_release,
};

static void swgpu_queue_free(struct kref *ref)
{
	struct swgpu_queue *queue = container_of(ref, struct swgpu_queue, ref);

	mutex_destroy(&queue->submit_lock);
	kfree_rcu(queue, rcu);
}

static void swgpu_queue_put(struct swgpu_queue *queue)
{
	kref_put(&queue->ref, swgpu_queue_free);
}

/* ---- running jobs ---- */

static bool swgpu_queue_closed(struct swgpu_queue *queue)
{
	return READ_ONCE(queue->closed);
}

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

static bool swgpu_job_cancelled(struct swgpu_job *job)
{
	return swgpu_queue_closed(job->queue) ||
	       swgpu_job_submitter_killed(job);
}

/* swgpu_exec's question, after every page it writes. */
static bool swgpu_exec_cancelled(struct swgpu_exec *x)
{
	return swgpu_job_cancelled(container_of(x, struct swgpu_job, exec));
}

static void swgpu_dep_signalled(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct swgpu_dep *dep = container_of(cb, struct swgpu_dep, cb);
	struct swgpu_job *job = dep->job;

	if (atomic_dec_and_test(&job->pending))
		wake_up_all(&job->queue->wait);
}

/* Wait for every dependency, or until the file is closed. */
static int swgpu_job_wait_deps(struct swgpu_job *job)
{
	struct swgpu_queue *queue = job->queue;
	unsigned int i;
	int ret = 0;

	atomic_set(&job->pending, job->num_deps + 1);
	for (i = 0; i < job->num_deps; i++) {
		job->deps[i].job = job;
		if (dma_fence_add_callback(job->deps[i].fence, &job->deps[i].cb,
					   swgpu_dep_signalled))
			atomic_dec(&job->pending);
	}
	atomic_dec(&job->pending);

	/* Idle, not uninterruptible: fences may take long, that is no hang. */
	wait_event_idle(queue->wait, !atomic_read(&job->pending) ||
				     swgpu_queue_closed(queue));

	for (i = 0; i < job->num_deps; i++)
		dma_fence_remove_callback(job->deps[i].fence, &job->deps[i].cb);

	if (atomic_read(&job->pending))
		return -ECANCELED;
	if (job->has_in_fence && job->deps[0].fence->error)
		ret = job->deps[0].fence->error;
	return ret;
}

static void swgpu_job_put_resources(struct swgpu_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_cmds; i++) {
		if (job->dst && job->dst[i])
			drm_gem_object_put(&job->dst[i]->base);
		if (job->src && job->src[i])
			drm_gem_object_put(&job->src[i]->base);
	}
	for (i = 0; i < job->num_deps; i++)
		dma_fence_put(job->deps[i].fence);
	swgpu_alloc_log_fini(&job->exec.allocated);
	mem_cgroup_put(job->memcg);
	job->memcg = NULL;
	if (job->submitter)
		put_task_struct(job->submitter);
	job->submitter = NULL;
	kvfree(job->cmds);
	kfree(job->dst);
	kfree(job->src);
	kfree(job->deps);
}

static void swgpu_job_run(struct swgpu_job *job)
{
	struct swgpu_engine *engine = job->queue->engine;
	struct mem_cgroup *old_memcg;
	unsigned int i;
	int ret;

	ret = swgpu_job_wait_deps(job);
	if (!ret && swgpu_job_cancelled(job))
		ret = -ECANCELED;

	/* Allocate as the submitter would have: in its memory cgroup. */
	old_memcg = set_active_memcg(job->memcg);
	for (i = 0; !ret && i < job->num_cmds; i++) {
		const struct drm_swgpu_cmd *cmd = &job->cmds[i];

		if (cmd->op == SWGPU_CMD_FILL)
			ret = swgpu_exec_fill(&job->exec, cmd, job->dst[i]);
		else
			ret = swgpu_exec_copy(&job->exec, cmd, job->dst[i],
					      job->src[i]);
	}
	set_active_memcg(old_memcg);

	if (ret) {
		/*
		 * Holes the job filled become holes again: each byte it
		 * was to write holds its old value or the job's, and the
		 * memory of a job that did not fit comes back at once.
		 */
		swgpu_alloc_log_release(&job->exec.allocated);
		dma_fence_set_error(&job->fence, ret);
		atomic64_inc(&engine->jobs_failed);
	} else {
		atomic64_inc(&engine->jobs_done);
	}
	dma_fence_signal(&job->fence);
	atomic_dec(&engine->queued);

	swgpu_job_put_resources(job);
	dma_fence_put(&job->fence);
}

static void swgpu_queue_run(struct work_struct *work)
{
	struct swgpu_queue *queue = container_of(work, struct swgpu_queue, work);
	struct swgpu_job *job;

	for (;;) {
		spin_lock(&queue->lock);
		job = list_first_entry_or_null(&queue->jobs, struct swgpu_job,
					       link);
		if (job)
			list_del(&job->link);
		spin_unlock(&queue->lock);
		if (!job)
			break;
		swgpu_job_run(job);
	}
	swgpu_queue_put(queue);
}

/* ---- submitting ---- */

static int swgpu_check_range(struct swgpu_object *obj, u64 offset, u64 len)
{
	u64 end;

	if (check_add_overflow(offset, len, &end) || end > obj->base.size)
		return -EINVAL;
	return 0;
}

static int swgpu_job_lookup(struct swgpu_job *job, struct drm_file *file)
{
	unsigned int i;

	for (i = 0; i < job->num_cmds; i++) {
		const struct drm_swgpu_cmd *cmd = &job->cmds[i];
		struct drm_gem_object *gem;

		if (!cmd->length)
			return -EINVAL;
		if (cmd->op == SWGPU_CMD_FILL) {
			if (cmd->src_handle || cmd->src_offset)
				return -EINVAL;
		} else if (cmd->op == SWGPU_CMD_COPY) {
			if (cmd->pattern)
				return -EINVAL;
		} else {
			return -EINVAL;
		}

		gem = drm_gem_object_lookup(file, cmd->dst_handle);
		if (!gem)
			return -ENOENT;
		job->dst[i] = to_swgpu_obj(gem);
		if (swgpu_check_range(job->dst[i], cmd->dst_offset, cmd->length))
			return -EINVAL;

		if (cmd->op != SWGPU_CMD_COPY)
			continue;
		gem = drm_gem_object_lookup(file, cmd->src_handle);
		if (!gem)
			return -ENOENT;
		job->src[i] = to_swgpu_obj(gem);
		if (swgpu_check_range(job->src[i], cmd->src_offset, cmd->length))
			return -EINVAL;
		/* Overlapping copies have no single right answer: refuse. */
		if (job->src[i] == job->dst[i] &&
		    cmd->src_offset < cmd->dst_offset + cmd->length &&
		    cmd->dst_offset < cmd->src_offset + cmd->length)
			return -EINVAL;
	}
	return 0;
}

/*
 * The buffers the job touches, one entry per reservation object (two
 * imports can share one), and whether the job writes each.
 */
static unsigned int swgpu_job_buffers(struct swgpu_job *job,
				      struct drm_gem_object **objs,
				      bool *written)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < 2 * job->num_cmds; i++) {
		struct swgpu_object *obj = i & 1 ? job->src[i / 2] :
						   job->dst[i / 2];

		if (!obj)
			continue;
		for (j = 0; j < n; j++)
			if (objs[j]->resv == obj->base.resv)
				break;
		if (j == n) {
			objs[n] = &obj->base;
			written[n++] = false;
		}
		written[j] |= !(i & 1);
	}
	return n;
}

/* Record the fences the job must wait for, with the resvs locked. */
static int swgpu_job_collect_deps(struct swgpu_job *job,
				  struct drm_gem_object **objs, bool *written,
				  unsigned int count)
{
	unsigned int i, k;
	int ret;

	for (i = 0; i < count; i++) {
		struct dma_fence **fences;
		struct swgpu_dep *deps;
		unsigned int num;

		ret = dma_resv_get_fences(objs[i]->resv,
					  dma_resv_usage_rw(written[i]),
					  &num, &fences);
		if (ret)
			return ret;
		deps = krealloc_array(job->deps, job->num_deps + num,
				      sizeof(*deps), GFP_KERNEL);
		if (!deps) {
			while (num--)
				dma_fence_put(fences[num]);
			kfree(fences);
			return -ENOMEM;
		}
		job->deps = deps;
		for (k = 0; k < num; k++)
			job->deps[job->num_deps++].fence = fences[k];
		kfree(fences);

		ret = dma_resv_reserve_fences(objs[i]->resv, 1);
		if (ret)
			return ret;
	}
	return 0;
}

static void swgpu_job_publish(struct swgpu_job *job,
			      struct drm_gem_object **objs, bool *written,
			      unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		dma_resv_add_fence(objs[i]->resv, &job->fence,
				   written[i] ? DMA_RESV_USAGE_WRITE :
						DMA_RESV_USAGE_READ);
}

/*
 * Lock the buffers, record dependencies, create the fence and put it in
 * the buffers, then queue the job. Everything that can fail comes before
 * the fence is published.
 */
static int swgpu_job_queue(struct swgpu_job *job, struct swgpu_queue *queue,
			   struct sync_file **out)
{
	unsigned int count, max = 2 * job->num_cmds;
	struct ww_acquire_ctx ctx;
	struct drm_gem_object **objs;
	bool *written;
	int ret;

	objs = kcalloc(max, sizeof(*objs), GFP_KERNEL);
	written = kcalloc(max, sizeof(*written), GFP_KERNEL);
	if (!objs || !written) {
		ret = -ENOMEM;
		goto out_free;
	}
	count = swgpu_job_buffers(job, objs, written);

	mutex_lock(&queue->submit_lock);
	ret = drm_gem_lock_reservations(objs, count, &ctx);
	if (ret)
		goto out_unlock_submit;

	ret = swgpu_job_collect_deps(job, objs, written, count);
	if (ret)
		goto out_unlock_resv;

	__module_get(THIS_MODULE);
	kref_get(&queue->ref);
	dma_fence_init(&job->fence, &swgpu_job_fence_ops, &queue->fence_lock,
		       queue->context, ++queue->seqno);
	if (out) {
		*out = sync_file_create(&job->fence);
		if (!*out) {
			/* Never published; the caller drops it. */
			ret = -ENOMEM;
			goto out_unlock_resv;
		}
	}
	swgpu_job_publish(job, objs, written, count);
	drm_gem_unlock_reservations(objs, count, &ctx);

	atomic_inc(&queue->engine->queued);
	spin_lock(&queue->lock);
	list_add_tail(&job->link, &queue->jobs);
	spin_unlock(&queue->lock);
	kref_get(&queue->ref);
	if (!queue_work(queue->engine->wq, &queue->work))
		swgpu_queue_put(queue);
	mutex_unlock(&queue->submit_lock);
	goto out_free;

out_unlock_resv:
	drm_gem_unlock_reservations(objs, count, &ctx);
out_unlock_submit:
	mutex_unlock(&queue->submit_lock);
out_free:
	kfree(objs);
	kfree(written);
	return ret;
}

/**
 * swgpu_submit_ioctl - DRM_IOCTL_SWGPU_SUBMIT
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_submit
 * @file: the caller's DRM file
 *
 * Return: 0 with the job queued; see struct drm_swgpu_submit for errors.
 * On error nothing was queued and no buffer changed.
 */
int swgpu_submit_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file)
{
	struct drm_swgpu_submit *args = data;
	struct swgpu_file *sfile = file->driver_priv;
	struct sync_file *out = NULL;
	struct dma_fence *in = NULL;
	struct swgpu_job *job;
	int out_fd = -1;
	int ret;

	if (args->flags & ~SWGPU_SUBMIT_FLAGS)
		return -EINVAL;
	if (!args->num_cmds || args->num_cmds > SWGPU_SUBMIT_MAX_CMDS)
		return -EINVAL;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	job->queue = sfile->queue;
	swgpu_alloc_log_init(&job->exec.allocated);
	job->exec.progress = &sfile->queue->engine->bytes;
	job->exec.cancelled = swgpu_exec_cancelled;
	/* The client's cgroup, as if it had touched the pages itself. */
	job->memcg = get_mem_cgroup_from_mm(current->mm);
	job->submitter = get_task_struct(current);
	job->num_cmds = args->num_cmds;
	job->cmds = kvmalloc_array(job->num_cmds, sizeof(*job->cmds),
				   GFP_KERNEL);
	job->dst = kcalloc(job->num_cmds, sizeof(*job->dst), GFP_KERNEL);
	job->src = kcalloc(job->num_cmds, sizeof(*job->src), GFP_KERNEL);
	if (!job->cmds || !job->dst || !job->src) {
		ret = -ENOMEM;
		goto err;
	}
	if (copy_from_user(job->cmds, u64_to_user_ptr(args->cmds),
			   job->num_cmds * sizeof(*job->cmds))) {
		ret = -EFAULT;
		goto err;
	}

	ret = swgpu_job_lookup(job, file);
	if (ret)
		goto err;

	if (args->flags & SWGPU_SUBMIT_IN_FENCE) {
		in = sync_file_get_fence(args->in_fence_fd);
		if (!in) {
			ret = -EINVAL;
			goto err;
		}
		job->deps = kzalloc(sizeof(*job->deps), GFP_KERNEL);
		if (!job->deps) {
			dma_fence_put(in);
			ret = -ENOMEM;
			goto err;
		}
		job->deps[0].fence = in;
		job->num_deps = 1;
		job->has_in_fence = true;
	}

	if (args->flags & SWGPU_SUBMIT_OUT_FENCE) {
		out_fd = get_unused_fd_flags(O_CLOEXEC);
		if (out_fd < 0) {
			ret = out_fd;
			goto err;
		}
	}

	ret = swgpu_job_queue(job, sfile->queue, out_fd >= 0 ? &out : NULL);
	if (ret)
		goto err;

	if (out) {
		fd_install(out_fd, out->file);
		args->out_fence_fd = out_fd;
	}
	return 0;

err:
	if (out_fd >= 0)
		put_unused_fd(out_fd);
	swgpu_job_put_resources(job);
	/* Once its fence exists, the job's memory is the fence's. */
	if (job->fence.ops)
		dma_fence_put(&job->fence);
	else
		kfree(job);
	return ret;
}

/* ---- per-file queues and the device's engine ---- */

/**
 * swgpu_queue_create - give a DRM file its job queue
 * @engine: the device's engine
 *
 * Return: the queue, or NULL without memory.
 */
struct swgpu_queue *swgpu_queue_create(struct swgpu_engine *engine)
{
	struct swgpu_queue *queue;

	queue = kzalloc(sizeof(*queue), GFP_KERNEL);
	if (!queue)
		return NULL;

	kref_init(&queue->ref);
	queue->engine = engine;
	spin_lock_init(&queue->lock);
	INIT_LIST_HEAD(&queue->jobs);
	INIT_WORK(&queue->work, swgpu_queue_run);
	mutex_init(&queue->submit_lock);
	queue->context = dma_fence_context_alloc(1);
	spin_lock_init(&queue->fence_lock);
	init_waitqueue_head(&queue->wait);
	return queue;
}

/**
 * swgpu_queue_close - the file is gone: cancel what has not run
 * @queue: the file's queue
 *
 * Jobs still queued or waiting for dependencies signal -ECANCELED without
 * touching their buffers; a running job stops within its window. Nothing
 * waits here: the queue lives until its last job is done.
 */
void swgpu_queue_close(struct swgpu_queue *queue)
{
	WRITE_ONCE(queue->closed, true);
	wake_up_all(&queue->wait);
	swgpu_queue_put(queue);
}

/**
 * swgpu_engine_init - start the device's engine
 * @engine: the engine
 *
 * Return: 0 or -ENOMEM.
 */
int swgpu_engine_init(struct swgpu_engine *engine)
{
	/* Unbound: a job is long, CPU-heavy work, not a per-CPU chore. */
	engine->wq = alloc_workqueue("swgpu-engine", WQ_UNBOUND, 0);
	return engine->wq ? 0 : -ENOMEM;
}

/**
 * swgpu_engine_fini - stop the device's engine, after its last job
 * @engine: the engine
 */
void swgpu_engine_fini(struct swgpu_engine *engine)
{
	destroy_workqueue(engine->wq);
}

/**
 * swgpu_engine_debugfs_show - the engine's counters
 * @m: the debugfs file
 * @engine: the engine
 */
void swgpu_engine_debugfs_show(struct seq_file *m, struct swgpu_engine *engine)
{
	seq_printf(m, "queued %d\njobs_done %lld\njobs_failed %lld\nbytes %lld\n",
		   atomic_read(&engine->queued),
		   atomic64_read(&engine->jobs_done),
		   atomic64_read(&engine->jobs_failed),
		   atomic64_read(&engine->bytes));
}
