// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgem-compatible fences: FENCE_ATTACH puts a fence that user space
 * signals later (FENCE_SIGNAL) into a buffer's reservation object, so
 * implicit synchronisation through dma-bufs can be driven by hand.
 *
 * Numbers, structs and errors are vgem's. A fence nobody signals expires
 * by itself after fence_timeout_ms (vgem: a fixed 10 s), with the error
 * -ETIMEDOUT recorded on it, so a forgotten fence never hangs its waiters.
 * Closing the DRM file signals the fences it still owns.
 */

#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/swgpu_drm.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

static unsigned int fence_timeout_ms = 10000;
module_param(fence_timeout_ms, uint, 0644);
MODULE_PARM_DESC(fence_timeout_ms,
		 "Time after which an unsignalled FENCE_ATTACH fence expires, in ms (default: 10000, as vgem)");

/**
 * struct swgpu_fence - a fence that user space signals
 * @base: the fence
 * @lock: the fence's lock
 * @timer: expires the fence; while pending it holds a fence reference
 * @write: attached for writing (exclusive) rather than reading
 */
struct swgpu_fence {
	struct dma_fence base;
	spinlock_t lock;
	struct timer_list timer;
	bool write;
};

static const char *swgpu_fence_driver_name(struct dma_fence *f)
{
	return SWGPU_DRIVER_NAME;
}

static const char *swgpu_fence_timeline_name(struct dma_fence *f)
{
	return "user";
}

static void swgpu_fence_release(struct dma_fence *f)
{
	dma_fence_free(f);
	/*
	 * Fences outlive their DRM file in other drivers' reservation
	 * objects; the module's code must stay until the last one is gone.
	 */
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops swgpu_fence_ops = {
	.get_driver_name = swgpu_fence_driver_name,
	.get_timeline_name = swgpu_fence_timeline_name,
	.release = swgpu_fence_release,
};

/**
 * swgpu_fence_signal_once - signal a fence unless it is signalled already
 * @fence: the fence
 * @lock: the lock it was initialised with
 * @error: its error, or 0
 *
 * When two paths may end one fence (an expiry timer and a hand signal, a
 * gate's fences, timeout and cancellation), the test and the signal must
 * be one step under the fence's lock: dma_fence_signal() does not say on
 * every kernel whether it signalled, and an error set after another path
 * signalled would be lost or warned about.
 *
 * Return: whether this call signalled it.
 */
bool swgpu_fence_signal_once(struct dma_fence *fence, spinlock_t *lock,
			     int error)
{
	unsigned long flags;
	bool done = false;

	spin_lock_irqsave(lock, flags);
	if (!test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &fence->flags)) {
		if (error)
			dma_fence_set_error(fence, error);
		dma_fence_signal_locked(fence);
		done = true;
	}
	spin_unlock_irqrestore(lock, flags);
	return done;
}

/*
 * The expiry timer and FENCE_SIGNAL both end a fence, and the caller of
 * FENCE_SIGNAL is told which of them did.
 */
static bool swgpu_fence_complete(struct swgpu_fence *fence, int error)
{
	return swgpu_fence_signal_once(&fence->base, &fence->lock, error);
}

static void swgpu_fence_expire(struct timer_list *t)
{
	struct swgpu_fence *fence = timer_container_of(fence, t, timer);

	swgpu_fence_complete(fence, -ETIMEDOUT);
	dma_fence_put(&fence->base);
}

static struct swgpu_fence *swgpu_fence_create(bool write)
{
	struct swgpu_fence *fence;

	fence = kzalloc(sizeof(*fence), GFP_KERNEL);
	if (!fence)
		return NULL;

	__module_get(THIS_MODULE);
	spin_lock_init(&fence->lock);
	dma_fence_init(&fence->base, &swgpu_fence_ops, &fence->lock,
		       dma_fence_context_alloc(1), 1);
	fence->write = write;

	/* The pending timer's reference, dropped by whoever stops it. */
	dma_fence_get(&fence->base);
	timer_setup(&fence->timer, swgpu_fence_expire, 0);
	mod_timer(&fence->timer,
		  jiffies + msecs_to_jiffies(READ_ONCE(fence_timeout_ms)));
	return fence;
}

/*
 * Signal a fence by hand. Return: true if this signalled it, false if it
 * had already expired (then it carries -ETIMEDOUT).
 */
static bool swgpu_fence_signal(struct swgpu_fence *fence)
{
	bool signalled = swgpu_fence_complete(fence, 0);

	if (timer_delete(&fence->timer))
		dma_fence_put(&fence->base);
	return signalled;
}

/**
 * swgpu_fence_file_init - set up a DRM file's fence table
 * @sfile: the file's swgpu state
 */
void swgpu_fence_file_init(struct swgpu_file *sfile)
{
	mutex_init(&sfile->fence_lock);
	idr_init_base(&sfile->fences, 1);
}

/**
 * swgpu_fence_file_fini - signal and drop the fences a closing file owns
 * @sfile: the file's swgpu state
 */
void swgpu_fence_file_fini(struct swgpu_file *sfile)
{
	struct swgpu_fence *fence;
	int id;

	idr_for_each_entry(&sfile->fences, fence, id) {
		swgpu_fence_signal(fence);
		dma_fence_put(&fence->base);
	}
	idr_destroy(&sfile->fences);
	mutex_destroy(&sfile->fence_lock);
}

/**
 * swgpu_fence_attach_ioctl - DRM_IOCTL_SWGPU_FENCE_ATTACH
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_fence_attach
 * @file: the caller's DRM file
 *
 * Return: 0 with the fence id in out_fence; -EINVAL for unknown flags or
 * non-zero padding; -ENOENT for a bad handle; -EBUSY when an unsignalled
 * fence conflicts (a writer with anything, a reader with a writer);
 * -ENOMEM.
 */
int swgpu_fence_attach_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file)
{
	struct drm_swgpu_fence_attach *args = data;
	struct swgpu_file *sfile = file->driver_priv;
	bool write = args->flags & SWGPU_FENCE_WRITE;
	struct drm_gem_object *gem;
	struct swgpu_fence *fence;
	struct dma_resv *resv;
	int ret;

	if (args->flags & ~SWGPU_FENCE_WRITE || args->pad)
		return -EINVAL;

	gem = drm_gem_object_lookup(file, args->handle);
	if (!gem)
		return -ENOENT;
	resv = gem->resv;

	fence = swgpu_fence_create(write);
	if (!fence) {
		ret = -ENOMEM;
		goto out_put;
	}

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		goto out_signal;
	/* Serialise through the buffer, as vgem does: no silent reorder. */
	if (!dma_resv_test_signaled(resv, dma_resv_usage_rw(write)))
		ret = -EBUSY;
	if (!ret)
		ret = dma_resv_reserve_fences(resv, 1);
	if (!ret)
		dma_resv_add_fence(resv, &fence->base,
				   write ? DMA_RESV_USAGE_WRITE :
					   DMA_RESV_USAGE_READ);
	dma_resv_unlock(resv);
	if (ret)
		goto out_signal;

	mutex_lock(&sfile->fence_lock);
	ret = idr_alloc(&sfile->fences, fence, 1, 0, GFP_KERNEL);
	mutex_unlock(&sfile->fence_lock);
	if (ret < 0)
		goto out_signal;

	args->out_fence = ret;
	ret = 0;
	goto out_put;

out_signal:
	/* A fence that made it into the resv must not stay pending. */
	swgpu_fence_signal(fence);
	dma_fence_put(&fence->base);
out_put:
	drm_gem_object_put(gem);
	return ret;
}

/**
 * swgpu_fence_signal_ioctl - DRM_IOCTL_SWGPU_FENCE_SIGNAL
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_fence_signal
 * @file: the caller's DRM file
 *
 * Signals and forgets a fence of this file.
 *
 * Return: 0; -EINVAL for non-zero flags; -ENOENT for an unknown or
 * already signalled id; -ETIMEDOUT if the fence had expired.
 */
int swgpu_fence_signal_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file)
{
	struct drm_swgpu_fence_signal *args = data;
	struct swgpu_file *sfile = file->driver_priv;
	struct swgpu_fence *fence;
	int ret = 0;

	if (args->flags)
		return -EINVAL;

	/* The id stays taken, so ids only grow, as vgem's do. */
	mutex_lock(&sfile->fence_lock);
	fence = idr_replace(&sfile->fences, NULL, args->fence);
	mutex_unlock(&sfile->fence_lock);
	if (IS_ERR_OR_NULL(fence))
		return -ENOENT;

	if (!swgpu_fence_signal(fence))
		ret = -ETIMEDOUT;
	dma_fence_put(&fence->base);
	return ret;
}

/**
 * swgpu_fence_debugfs_show - list a file's unconsumed fences
 * @m: the debugfs file
 * @pid: the process the DRM file belongs to
 * @sfile: the file's swgpu state
 */
void swgpu_fence_debugfs_show(struct seq_file *m, pid_t pid,
			      struct swgpu_file *sfile)
{
	struct swgpu_fence *fence;
	int id;

	mutex_lock(&sfile->fence_lock);
	idr_for_each_entry(&sfile->fences, fence, id)
		seq_printf(m, "pid %d fence %d %s signaled %d error %d\n",
			   pid, id, fence->write ? "write" : "read",
			   dma_fence_is_signaled(&fence->base) ? 1 : 0,
			   fence->base.error);
	mutex_unlock(&sfile->fence_lock);
}
