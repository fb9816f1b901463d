// SPDX-License-Identifier: GPL-2.0-only
/*
 * A job's commands on several CPUs at once: lanes, as a GPU spreads a
 * job over its execution units. Jobs still hold the ring one at a time
 * (swgpu_engine.c); within a job, the windows its commands are cut into
 * (swgpu_engine_exec.c) are taken one after the other by the ring's
 * worker and by up to engine_lanes - 1 helper work items, each lane
 * taking the next window when it is done with one.
 *
 * The commands of a batch still run in order as far as anyone can tell:
 * the batch is cut into phases of consecutive commands none of which
 * writes a range another of the phase reads or writes, and a phase starts
 * when the one before it has ended. Buffers are told apart by object:
 * two objects that share memory behind the engine's back (two udmabufs
 * of one memfd) are not known to overlap.
 *
 * Why: with 4 KiB pages, finding, pinning and releasing each page in the
 * page cache costs about a seventh of writing it, and a job's round trip
 * adds to it, which keeps one CPU below 0.9x memset() without keeping
 * objects pinned between jobs (docs/benchmarks.rst). A lane pins only
 * its own window, so a job pins at most a window per lane and buffer.
 */

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <drm/swgpu_drm.h>

#include "swgpu_drv.h"

/* Lanes when engine_lanes is 0, at most: memory bandwidth is shared. */
#define SWGPU_EXEC_AUTO_LANES	4

/* The most lanes engine_lanes may ask for. */
#define SWGPU_EXEC_MAX_LANES	16

static unsigned int engine_lanes;
module_param(engine_lanes, uint, 0644);
MODULE_PARM_DESC(engine_lanes,
		 "CPUs one engine job's commands run on at once, 1 to 16; 0: one per online CPU, at most 4 (default: 0)");

/**
 * swgpu_exec_lanes - how many lanes a job starting now gets
 *
 * Return: engine_lanes, or for 0 the online CPUs up to
 * SWGPU_EXEC_AUTO_LANES; between 1 and SWGPU_EXEC_MAX_LANES.
 */
unsigned int swgpu_exec_lanes(void)
{
	unsigned int lanes = READ_ONCE(engine_lanes);

	if (!lanes)
		lanes = min(num_online_cpus(), SWGPU_EXEC_AUTO_LANES);
	return clamp(lanes, 1U, SWGPU_EXEC_MAX_LANES);
}

/**
 * struct swgpu_exec_phase - commands of a batch that may run at once
 * @cmds: the first of them
 * @dst: their destination objects
 * @src: their source objects (NULL for a FILL)
 * @num_cmds: how many
 * @windows: their windows, all together
 * @next: the next window a lane takes, counted over all of them
 */
struct swgpu_exec_phase {
	const struct drm_swgpu_cmd *cmds;
	struct swgpu_object **dst;
	struct swgpu_object **src;
	unsigned int num_cmds;
	unsigned long windows;
	atomic_long_t next;
};

/* Whether @b may not run alongside @a: one writes what the other uses. */
static bool swgpu_cmds_conflict(const struct swgpu_exec_phase *p,
				unsigned int a, unsigned int b)
{
	const struct drm_swgpu_cmd *ca = &p->cmds[a], *cb = &p->cmds[b];

	return swgpu_ranges_overlap(p->dst[a], ca->dst_offset, ca->length,
				    p->dst[b], cb->dst_offset, cb->length) ||
	       swgpu_ranges_overlap(p->dst[a], ca->dst_offset, ca->length,
				    p->src[b], cb->src_offset, cb->length) ||
	       swgpu_ranges_overlap(p->src[a], ca->src_offset, ca->length,
				    p->dst[b], cb->dst_offset, cb->length);
}

/* The longest run of commands from @cmds on that may all run at once. */
static void swgpu_exec_phase_init(struct swgpu_exec_phase *p,
				  const struct drm_swgpu_cmd *cmds,
				  struct swgpu_object **dst,
				  struct swgpu_object **src,
				  unsigned int num_cmds)
{
	unsigned int i, j;

	p->cmds = cmds;
	p->dst = dst;
	p->src = src;
	p->windows = swgpu_exec_windows(&cmds[0]);
	for (i = 1; i < num_cmds; i++) {
		for (j = 0; j < i; j++)
			if (swgpu_cmds_conflict(p, j, i))
				goto done;
		p->windows += swgpu_exec_windows(&cmds[i]);
	}
done:
	p->num_cmds = i;
	atomic_long_set(&p->next, 0);
}

/*
 * Take windows of the phase until none is left or the job fails. The
 * windows a lane takes only grow, so it finds each one's command by
 * walking on from the last.
 */
static void swgpu_lane_run(struct swgpu_exec_lane *lane)
{
	struct swgpu_exec_phase *p = lane->phase;
	struct swgpu_exec *x = lane->x;
	unsigned long k, base = 0, n = swgpu_exec_windows(&p->cmds[0]);
	unsigned int i = 0;
	int ret;

	while (!READ_ONCE(x->error)) {
		k = atomic_long_fetch_inc(&p->next);
		if (k >= p->windows)
			break;
		while (k >= base + n) {
			base += n;
			n = swgpu_exec_windows(&p->cmds[++i]);
		}
		ret = swgpu_exec_window(lane, &p->cmds[i], p->dst[i], p->src[i],
					k - base);
		if (ret) {
			cmpxchg(&x->error, 0, ret);
			break;
		}
	}
}

/* A helper lane: allocates in the job's memory cgroup, as the ring does. */
static void swgpu_lane_work(struct work_struct *work)
{
	struct swgpu_exec_lane *lane =
		container_of(work, struct swgpu_exec_lane, work);
	struct mem_cgroup *old_memcg = set_active_memcg(lane->x->memcg);

	swgpu_lane_run(lane);
	set_active_memcg(old_memcg);
}

static int swgpu_lane_init(struct swgpu_exec_lane *lane, struct swgpu_exec *x,
			   bool copies)
{
	lane->x = x;
	swgpu_alloc_log_init(&lane->allocated);
	INIT_WORK(&lane->work, swgpu_lane_work);
	lane->dpages = swgpu_exec_alloc_pages();
	if (copies)
		lane->spages = swgpu_exec_alloc_pages();
	return lane->dpages && (lane->spages || !copies) ? 0 : -ENOMEM;
}

/* What the lane allocated now belongs to the job's log. */
static void swgpu_lane_fini(struct swgpu_exec_lane *lane)
{
	list_splice_tail_init(&lane->allocated.chunks,
			      &lane->x->allocated.chunks);
	kfree(lane->spages);
	kfree(lane->dpages);
}

/* Run a phase on @nlanes lanes: this worker's, and helpers for the rest. */
static void swgpu_exec_phase_run(struct swgpu_exec_phase *p,
				 struct swgpu_exec_lane *lanes,
				 unsigned int nlanes)
{
	unsigned int helpers = min_t(unsigned long, nlanes, p->windows) - 1;
	unsigned int l;

	for (l = 0; l <= helpers; l++)
		lanes[l].phase = p;
	for (l = 1; l <= helpers; l++)
		queue_work(lanes[l].x->wq, &lanes[l].work);
	swgpu_lane_run(&lanes[0]);
	/*
	 * A helper that has not started yet has nothing left to do: take it
	 * off the queue rather than wait for a worker to run it.
	 */
	for (l = 1; l <= helpers; l++)
		cancel_work_sync(&lanes[l].work);
}

/**
 * swgpu_exec_run - run a job's commands, on as many lanes as it gets
 * @x: the job's execution state
 * @cmds: its commands, checked at submit
 * @dst: each command's destination object
 * @src: each COPY's source object; NULL for a FILL
 * @num_cmds: how many
 *
 * Called in the job's own worker, in the job's memory cgroup. Helper
 * lanes run on @x->wq. Returns when every lane is done with the job:
 * nothing is pinned then, and what every lane allocated is in
 * @x->allocated.
 *
 * Return: 0; -ECANCELED when @x says so; -ENOMEM or another errno from
 * begin: the first error of a lane.
 */
int swgpu_exec_run(struct swgpu_exec *x, const struct drm_swgpu_cmd *cmds,
		   struct swgpu_object **dst, struct swgpu_object **src,
		   unsigned int num_cmds)
{
	unsigned long windows = 0;
	unsigned int nlanes, first, l;
	struct swgpu_exec_lane *lanes;
	struct swgpu_exec_phase phase;
	bool copies = false;

	/* No more lanes than windows: a small job costs what it did. */
	for (l = 0; l < num_cmds; l++) {
		windows += swgpu_exec_windows(&cmds[l]);
		copies |= cmds[l].op == SWGPU_CMD_COPY;
	}
	nlanes = min_t(unsigned long, swgpu_exec_lanes(), windows);
	lanes = kcalloc(nlanes, sizeof(*lanes),
			GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!lanes)
		return -ENOMEM;
	/* Without memory for every helper, the job runs on fewer. */
	for (l = 0; l < nlanes; l++) {
		if (swgpu_lane_init(&lanes[l], x, copies)) {
			swgpu_lane_fini(&lanes[l]);
			break;
		}
	}
	if (!l) {
		kfree(lanes);
		return -ENOMEM;
	}
	nlanes = l;

	for (first = 0; first < num_cmds && !READ_ONCE(x->error);
	     first += phase.num_cmds) {
		swgpu_exec_phase_init(&phase, cmds + first, dst + first,
				      src + first, num_cmds - first);
		swgpu_exec_phase_run(&phase, lanes, nlanes);
	}

	for (l = 0; l < nlanes; l++)
		swgpu_lane_fini(&lanes[l]);
	kfree(lanes);
	return READ_ONCE(x->error);
}
