# swgpu top-level entry. `make help` lists the targets.

KERNEL ?= all
TEST ?=
SHELL := /bin/bash

.PHONY: help all module check check-install fuzz soak run shell bench tiers tiers-patched checkpatch \
	clean install uninstall dkms-install dkms-uninstall deb

KERNELS = $(shell awk -F'|' '!/^[[:space:]]*(\#|$$)/ { gsub(/[[:space:]]/, "", $$1); print $$1 }' tools/kernels.conf)
# The kernels built here (suite "tier"), which make module leaves out.
TIER_KERNELS = $(shell awk -F'|' '!/^[[:space:]]*(\#|$$)/ { gsub(/[[:space:]]/, ""); if ($$2 == "tier") print $$1 }' tools/kernels.conf)

help:
	@echo "make check     build and test swgpu in QEMU on every kernel of tools/kernels.conf:"
	@echo "               Debian's 6.1, 6.12, 6.12-rt, 7.2, 7.2-rt, 7.3-rc, and the test"
	@echo "               tiers whose kernels are built (KERNEL=name|all, TEST=binary[:subtest]),"
	@echo "               then the install path once (make check-install; TEST=install: only it)"
	@echo "make fuzz      run the fuzzer swgpu_fuzz alone, SEEDS=\"1 0x2a\" (default: one from the"
	@echo "               clock) for TIME seconds each (default 300), on KERNEL=name|all, with"
	@echo "               the harness's checks (unload, kernel log, kmemleak on the debug tier)"
	@echo "make soak      the fuzzer (a new seed each round) and the memory pressure suite"
	@echo "               taking turns for SOAK_TIME seconds (default 3600) on KERNEL"
	@echo "               (default 6.12); one line a round, the totals, N passed/failed/skipped"
	@echo "make tiers     build the debug (lockdep, KASAN, kmemleak), i386 HIGHMEM and igt"
	@echo "               (vkms, SW_SYNC) tier kernels (about 8-15 min each, cached), so"
	@echo "               make check runs them"
	@echo "make tiers-patched  build them again with the kernel fixes of docs/upstream/"
	@echo "               (incremental from the tiers' build trees), for make check"
	@echo "make run       the main job: boot a kernel, show swgpu sharing buffers with vgem"
	@echo "make shell     interactive shell in a VM with swgpu loaded (KERNEL=name)"
	@echo "make bench     benchmarks: swgpu vs vgem, udmabuf, dma-heaps; table + chart (KERNEL=...)"
	@echo "make module    build swgpu.ko for every Debian kernel of the table into build/NAME"
	@echo "               (W=1 and sparse; warnings fail; KERNEL=name for one)"
	@echo "make checkpatch  run the kernel's checkpatch.pl on the driver and headers"
	@echo "make install   install swgpu.ko for the running kernel (KVER=release, KDIR=its build"
	@echo "               tree) into updates/, the uAPI header, swgpu.pc and a modprobe.d"
	@echo "               example (DESTDIR=, PREFIX=/usr); make uninstall removes them"
	@echo "make dkms-install  the module's sources into /usr/src and DKMS, which rebuilds"
	@echo "               it for every kernel (make dkms-uninstall removes it)"
	@echo "make deb       Debian packages swgpu-dkms and swgpu-dev into build/deb/ (lintian-checked)"
	@echo "make check-install  build the packages, install them in Debian roots (bookworm:"
	@echo "               6.1 and 6.12; unstable: 7.2), boot the module DKMS built, purge"
	@echo "make clean     remove build/ (the kernel cache outside the tree stays)"
	@echo "kernels: $(KERNELS)"

all: module

module:
	for k in $(if $(filter all,$(KERNEL)),$(filter-out $(TIER_KERNELS),$(KERNELS)),$(KERNEL)); do \
		SWGPU_SPARSE=1 tools/build-module.sh $$k build/$$k >/dev/null || exit 1; \
	done

check:
	tools/check.sh --kernel $(KERNEL) $(if $(TEST),--test $(TEST))

# The fuzzer's own boot: tools/check.sh with only swgpu_fuzz selected.
SEEDS ?=
TIME ?= 300
fuzz:
	SWGPU_FUZZ_SEEDS="$(SEEDS)" SWGPU_FUZZ_TIME="$(TIME)" \
		tools/check.sh --kernel $(KERNEL) --test swgpu_fuzz

# The soak: the fuzzer and the pressure suite taking turns (tools/soak.sh).
SOAK_TIME ?= 3600
soak:
	tools/soak.sh --kernel $(if $(filter-out all,$(KERNEL)),$(KERNEL),6.12) --time $(SOAK_TIME)

run:
	tools/demo.sh $(if $(filter-out all,$(KERNEL)),--kernel $(KERNEL))

bench:
	tools/bench.sh --kernel $(KERNEL)

tiers:
	tools/tiers/build-kernel.sh debug >/dev/null
	tools/tiers/build-kernel.sh highmem >/dev/null
	tools/tiers/build-kernel.sh igt >/dev/null

tiers-patched: tiers
	tools/tiers/build-kernel.sh highmem-patched >/dev/null
	tools/tiers/build-kernel.sh debug-patched >/dev/null

shell:
	tools/shell.sh $(if $(filter-out all,$(KERNEL)),--kernel $(KERNEL))

checkpatch:
	tools/checkpatch.sh

# tools/install.sh reads KVER, KDIR, DESTDIR and PREFIX from the
# environment, where make puts its command-line variables.
install uninstall dkms-install dkms-uninstall:
	tools/install.sh $@

deb:
	tools/deb.sh

check-install:
	tools/check-install.sh

clean:
	rm -rf build
