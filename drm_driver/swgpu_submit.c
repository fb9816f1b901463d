// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM_IOCTL_SWGPU_SUBMIT: a batch of FILL and COPY commands becomes one
 * drm_sched job of the caller's file.
 *
 * Everything that can fail comes first: the commands, handles and
 * ranges, the in-fence and in-syncobjs, the out-syncobjs and the room
 * for their timeline points, the buffers' reservation locks and the
 * fences the job must wait for. Only then is the job armed, its finished
 * fence put into the buffers and syncobjs, and the job pushed: a
 * rejected SUBMIT changes nothing.
 */

#include <linux/dma-fence-chain.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/memcontrol.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>
#include <drm/swgpu_drm.h>

#include "swgpu_compat.h"
#include "swgpu_job.h"

/**
 * struct swgpu_out_sync - a syncobj that gets the job's fence
 * @syncobj: the syncobj, referenced
 * @chain: the timeline point's chain node, for @point != 0
 * @point: the timeline point, or 0
 */
struct swgpu_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

/**
 * struct swgpu_submit - what one SUBMIT gathers before it commits
 * @job: the job
 * @gate: the foreign fences it waits for, until armed
 * @out: the out-syncobjs
 * @num_out: number of @out
 * @objs: the job's buffers, one per reservation object
 * @written: whether the job writes each of @objs
 * @num_objs: number of @objs
 */
struct swgpu_submit {
	struct swgpu_job *job;
	struct swgpu_gate *gate;
	struct swgpu_out_sync *out;
	unsigned int num_out;
	struct drm_gem_object **objs;
	bool *written;
	unsigned int num_objs;
};

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
		if (swgpu_ranges_overlap(job->src[i], cmd->src_offset,
					 cmd->length, job->dst[i],
					 cmd->dst_offset, cmd->length))
			return -EINVAL;
	}
	return 0;
}

/*
 * The buffers the job touches, one entry per reservation object (two
 * imports can share one), and whether the job writes each.
 */
static int swgpu_submit_buffers(struct swgpu_submit *s)
{
	struct swgpu_job *job = s->job;
	unsigned int i, j, max = 2 * job->num_cmds;

	s->objs = kcalloc(max, sizeof(*s->objs), GFP_KERNEL);
	s->written = kcalloc(max, sizeof(*s->written), GFP_KERNEL);
	if (!s->objs || !s->written)
		return -ENOMEM;

	for (i = 0; i < max; i++) {
		struct swgpu_object *obj = i & 1 ? job->src[i / 2] :
						   job->dst[i / 2];

		if (!obj)
			continue;
		for (j = 0; j < s->num_objs; j++)
			if (s->objs[j]->resv == obj->base.resv)
				break;
		if (j == s->num_objs) {
			s->objs[j] = &obj->base;
			s->written[s->num_objs++] = false;
		}
		s->written[j] |= !(i & 1);
	}
	return 0;
}

static int swgpu_copy_syncs(struct drm_swgpu_sync **syncs, u64 user,
			    u32 count)
{
	unsigned int i;

	*syncs = NULL;
	if (!count)
		return 0;
	/* @count is at most SWGPU_SUBMIT_MAX_SYNCS: the ioctl checked it. */
	*syncs = memdup_user(u64_to_user_ptr(user), count * sizeof(**syncs));
	if (IS_ERR(*syncs)) {
		int ret = PTR_ERR(*syncs);

		*syncs = NULL;
		return ret;
	}
	for (i = 0; i < count; i++)
		if ((*syncs)[i].flags)
			return -EINVAL;
	return 0;
}

/* The in-fence and in-syncobjs: explicit fences, whose error fails it. */
static int swgpu_submit_in_fences(struct swgpu_submit *s,
				  struct drm_swgpu_submit *args,
				  struct drm_file *file)
{
	struct drm_swgpu_sync *in;
	struct dma_fence *fence;
	unsigned int i;
	int ret;

	if (args->flags & SWGPU_SUBMIT_IN_FENCE) {
		fence = sync_file_get_fence(args->in_fence_fd);
		if (!fence)
			return -EINVAL;
		ret = swgpu_gate_add(s->gate, fence, SWGPU_GATE_EXPLICIT);
		dma_fence_put(fence);
		if (ret)
			return ret;
	}

	ret = swgpu_copy_syncs(&in, args->in_syncs, args->num_in_syncs);
	for (i = 0; !ret && i < args->num_in_syncs; i++) {
		ret = drm_syncobj_find_fence(file, in[i].handle, in[i].point,
					     0, &fence);
		if (ret)
			break;
		ret = swgpu_gate_add(s->gate, fence, SWGPU_GATE_EXPLICIT);
		dma_fence_put(fence);
	}
	kfree(in);
	return ret;
}

/* The out-syncobjs, and a chain node for each timeline point. */
static int swgpu_submit_out_syncs(struct swgpu_submit *s,
				  struct drm_swgpu_submit *args,
				  struct drm_file *file)
{
	struct drm_swgpu_sync *out;
	unsigned int i;
	int ret;

	ret = swgpu_copy_syncs(&out, args->out_syncs, args->num_out_syncs);
	if (!ret && args->num_out_syncs) {
		s->out = kcalloc(args->num_out_syncs, sizeof(*s->out),
				 GFP_KERNEL);
		if (!s->out)
			ret = -ENOMEM;
	}
	for (i = 0; !ret && i < args->num_out_syncs; i++) {
		struct swgpu_out_sync *o = &s->out[s->num_out];

		o->syncobj = drm_syncobj_find(file, out[i].handle);
		if (!o->syncobj) {
			ret = -ENOENT;
			break;
		}
		s->num_out++;
		o->point = out[i].point;
		if (o->point) {
			o->chain = dma_fence_chain_alloc();
			if (!o->chain)
				ret = -ENOMEM;
		}
	}
	kfree(out);
	return ret;
}

static void swgpu_submit_signal_syncs(struct swgpu_submit *s,
				      struct dma_fence *fence)
{
	unsigned int i;

	for (i = 0; i < s->num_out; i++) {
		struct swgpu_out_sync *o = &s->out[i];

		if (o->point) {
			drm_syncobj_add_point(o->syncobj, o->chain, fence,
					      o->point);
			o->chain = NULL;
		} else {
			drm_syncobj_replace_fence(o->syncobj, fence);
		}
	}
}

/*
 * With the buffers locked: the fences the job must wait for (readers
 * wait for writers, writers for everyone). swgpu's own jobs' fences go
 * to the scheduler, the rest to the gate; and room for the job's fence.
 */
static int swgpu_submit_implicit_fences(struct swgpu_submit *s)
{
	struct swgpu_job *job = s->job;
	struct swgpu_engine *engine = job->queue->engine;
	unsigned int i;
	int ret;

	for (i = 0; i < s->num_objs; i++) {
		struct dma_resv *resv = s->objs[i]->resv;
		struct dma_resv_iter cursor;
		struct dma_fence *fence;

		dma_resv_for_each_fence(&cursor, resv,
					dma_resv_usage_rw(s->written[i]),
					fence) {
			if (swgpu_is_engine_fence(engine, fence))
				ret = drm_sched_job_add_dependency(&job->base,
							dma_fence_get(fence));
			else
				ret = swgpu_gate_add(s->gate, fence,
						     SWGPU_GATE_IMPLICIT);
			if (ret)
				return ret;
		}
		ret = dma_resv_reserve_fences(resv, 1);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Lock the buffers, gather the fences, arm the job and publish its
 * fence, push it. Everything that can fail comes before the arming.
 */
static int swgpu_submit_commit(struct swgpu_submit *s, struct sync_file **out)
{
	struct swgpu_job *job = s->job;
	struct swgpu_queue *queue = job->queue;
	struct ww_acquire_ctx ctx;
	struct dma_fence *finished, *gate;
	unsigned int i;
	int ret;

	mutex_lock(&queue->submit_lock);
	ret = drm_gem_lock_reservations(s->objs, s->num_objs, &ctx);
	if (ret)
		goto out_unlock_submit;
	ret = swgpu_submit_implicit_fences(s);
	if (ret)
		goto out_unlock_resv;

	gate = swgpu_gate_arm(s->gate, queue->cancel, swgpu_job_timeout_ms(),
			      queue->engine->wq, &job->dep_error);
	s->gate = NULL;
	if (gate) {
		job->gate = dma_fence_get(gate);
		ret = drm_sched_job_add_dependency(&job->base, gate);
		if (ret)
			goto out_unlock_resv;
	}

	drm_sched_job_arm(&job->base);
	finished = &job->base.s_fence->finished;
	if (out) {
		*out = sync_file_create(finished);
		if (!*out) {
			/* Armed but never published: the caller drops it. */
			ret = -ENOMEM;
			goto out_unlock_resv;
		}
	}
	for (i = 0; i < s->num_objs; i++)
		dma_resv_add_fence(s->objs[i]->resv, finished,
				   s->written[i] ? DMA_RESV_USAGE_WRITE :
						   DMA_RESV_USAGE_READ);
	drm_gem_unlock_reservations(s->objs, s->num_objs, &ctx);
	swgpu_submit_signal_syncs(s, finished);

	atomic_inc(&queue->engine->queued);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&queue->submit_lock);
	return 0;

out_unlock_resv:
	drm_gem_unlock_reservations(s->objs, s->num_objs, &ctx);
out_unlock_submit:
	mutex_unlock(&queue->submit_lock);
	return ret;
}

static void swgpu_submit_fini(struct swgpu_submit *s)
{
	unsigned int i;

	for (i = 0; i < s->num_out; i++) {
		dma_fence_chain_free(s->out[i].chain);
		drm_syncobj_put(s->out[i].syncobj);
	}
	kfree(s->out);
	swgpu_gate_destroy(s->gate);
	kfree(s->objs);
	kfree(s->written);
}

static struct swgpu_job *swgpu_job_alloc(struct swgpu_queue *queue,
					 u32 num_cmds)
{
	struct swgpu_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	kref_get(&queue->ref);
	job->queue = queue;
	spin_lock_init(&job->stop_lock);
	swgpu_alloc_log_init(&job->exec.allocated);
	job->exec.progress = &queue->engine->bytes;
	/* The client's cgroup, as if it had touched the pages itself. */
	job->memcg = get_mem_cgroup_from_mm(current->mm);
	job->submitter = get_task_struct(current);
	job->num_cmds = num_cmds;
	job->cmds = kvmalloc_array(num_cmds, sizeof(*job->cmds), GFP_KERNEL);
	job->dst = kcalloc(num_cmds, sizeof(*job->dst), GFP_KERNEL);
	job->src = kcalloc(num_cmds, sizeof(*job->src), GFP_KERNEL);
	job->hw = swgpu_plain_fence_alloc();
	if (!job->cmds || !job->dst || !job->src || !job->hw) {
		swgpu_job_free(job);
		return NULL;
	}
	return job;
}

/**
 * swgpu_submit_ioctl - DRM_IOCTL_SWGPU_SUBMIT
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_submit
 * @file: the caller's DRM file
 *
 * Return: 0 with the job queued; see struct drm_swgpu_submit for errors.
 * On error nothing was queued and no buffer or syncobj changed.
 */
int swgpu_submit_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file)
{
	struct drm_swgpu_submit *args = data;
	struct swgpu_file *sfile = file->driver_priv;
	struct swgpu_submit s = {};
	struct sync_file *out = NULL;
	struct swgpu_job *job;
	int out_fd = -1;
	int ret;

	if (args->flags & ~SWGPU_SUBMIT_FLAGS)
		return -EINVAL;
	if (!args->num_cmds || args->num_cmds > SWGPU_SUBMIT_MAX_CMDS)
		return -EINVAL;
	if (args->num_in_syncs > SWGPU_SUBMIT_MAX_SYNCS ||
	    args->num_out_syncs > SWGPU_SUBMIT_MAX_SYNCS)
		return -EINVAL;

	job = swgpu_job_alloc(sfile->queue, args->num_cmds);
	if (!job)
		return -ENOMEM;
	s.job = job;
	if (copy_from_user(job->cmds, u64_to_user_ptr(args->cmds),
			   job->num_cmds * sizeof(*job->cmds))) {
		ret = -EFAULT;
		goto err;
	}
	ret = swgpu_job_lookup(job, file);
	if (ret)
		goto err;

	ret = swgpu_sched_job_init(&job->base, &sfile->queue->entity,
				   sfile->queue, file);
	if (ret)
		goto err;
	s.gate = swgpu_gate_create();
	if (!s.gate) {
		ret = -ENOMEM;
		goto err;
	}
	ret = swgpu_submit_in_fences(&s, args, file);
	if (ret)
		goto err;
	ret = swgpu_submit_out_syncs(&s, args, file);
	if (ret)
		goto err;
	ret = swgpu_submit_buffers(&s);
	if (ret)
		goto err;

	if (args->flags & SWGPU_SUBMIT_OUT_FENCE) {
		out_fd = get_unused_fd_flags(O_CLOEXEC);
		if (out_fd < 0) {
			ret = out_fd;
			goto err;
		}
	}

	ret = swgpu_submit_commit(&s, out_fd >= 0 ? &out : NULL);
	if (ret)
		goto err;

	if (out) {
		fd_install(out_fd, out->file);
		args->out_fence_fd = out_fd;
	}
	swgpu_submit_fini(&s);
	return 0;

err:
	if (out_fd >= 0)
		put_unused_fd(out_fd);
	swgpu_submit_fini(&s);
	swgpu_job_free(job);
	return ret;
}
