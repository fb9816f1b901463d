# swgpu top-level entry. `make help` lists the targets.

KERNEL ?= all
TEST ?=
SHELL := /bin/bash

.PHONY: help all module check run shell bench checkpatch clean

help:
	@echo "make check     build and test swgpu on Debian's 6.1 and 6.12 kernels in QEMU"
	@echo "               (KERNEL=6.1|6.12|all, TEST=binary[:subtest])"
	@echo "make run       the main job: boot a kernel, show swgpu sharing buffers with vgem"
	@echo "make shell     interactive shell in a VM with swgpu loaded (KERNEL=6.1|6.12)"
	@echo "make bench     benchmarks: swgpu vs vgem, udmabuf, dma-heaps; table + chart (KERNEL=...)"
	@echo "make module    build swgpu.ko for both kernels into build/ (W=1 and sparse; warnings fail)"
	@echo "make checkpatch  run the kernel's checkpatch.pl on the driver and headers"
	@echo "make clean     remove build/ (the kernel cache outside the tree stays)"

all: module

module:
	for k in $(if $(filter all,$(KERNEL)),6.1 6.12,$(KERNEL)); do \
		SWGPU_SPARSE=1 tools/build-module.sh $$k build/$$k >/dev/null || exit 1; \
	done

check:
	tools/check.sh --kernel $(KERNEL) $(if $(TEST),--test $(TEST))

run:
	tools/demo.sh $(if $(filter-out all,$(KERNEL)),--kernel $(KERNEL))

bench:
	tools/bench.sh --kernel $(KERNEL)

shell:
	tools/shell.sh $(if $(filter-out all,$(KERNEL)),--kernel $(KERNEL))

checkpatch:
	tools/checkpatch.sh

clean:
	rm -rf build
