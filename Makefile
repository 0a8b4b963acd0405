# SPDX-License-Identifier: MIT
# The README's commands. Each first installs what is missing (Debian 12).
BUILD ?= build
MESON_OPTS ?=
ifeq ($(CI),true)
MESON_OPTS += -Dwerror=true
endif

.PHONY: all deps deps-tests build demo check check-asan check-tsan bench install clean format fuzz

all: build

deps:
	@./scripts/install-deps.sh

# What only the tests need besides (the kernel's selftest and uAPI headers
# from linux-source-6.12, g++): installed before any test runs, so that no
# test finds it missing and skips.
deps-tests:
	@./scripts/install-deps.sh --tests

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	./scripts/demo.sh $(BUILD)

check: build deps-tests
	./scripts/run-tests.sh $(BUILD)

check-asan: deps deps-tests
	[ -f $(BUILD)-asan/build.ninja ] || meson setup $(BUILD)-asan $(MESON_OPTS) \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C $(BUILD)-asan
	./scripts/run-tests.sh $(BUILD)-asan

# ThreadSanitizer over the tests that run threads against each other (readers
# translating through the caches while a writer maps, unmaps, invalidates and
# frees tables; util/epoch with membarrier and with reader fences; the
# iommufd object model under concurrent ioctls; dmatest devices copying
# while their IOAS is unmapped; VFIO interrupts, SET_IRQS and type1
# MAP/UNMAP from several threads; dmatest behind VFIO copying while SET_IRQS
# switches MSI-X and RESET runs; SMMUv3 DMA while STEs change, and stalls;
# SMMUv3 lock-free translations while STEs and registers change; VT-d DMA
# while PASID entries and mappings change;
# uiommu run's DMA threads, stalls and page responses; the vSMMUv3 front
# end's page requests answered while DMA threads wait; dma-buf revocation
# racing with MAP_FILE, UNMAP and domain attach; VFIO ioeventfd and INTx
# unmask eventfds signalled while they are added, removed and the device
# closes; VFIO low power dropping an ioeventfd's write in the watcher
# thread while the device is entered, woken and closed; sPAPR EEH freezes
# and thaws swapping BAR mappings under the shim (its forked-child points
# skip: their swap agent thread starts after a multi-threaded fork, which
# TSan does not support); util/intfd's users' gate against moves; the preload shim's
# programs that run threads, with the TSan runtime preloaded ahead of the
# shim, see tests/meson.build).
TSAN_TESTS ?= cache_stress xlate xlate_cache cache cache_property iommufd_threads \
	iommufd_objs_threads epoch epoch_fence dmatest_threads dmatest_vfio vfio_threads vfio \
	vfio_nested smmuv3_iommufd smmuv3_lockfree shim_threads shim_poll shim_failnth shim_fds \
	shim_fork shim_fork_fds shim_fork_failnth shim_fork_nofile spapr vfio_spapr run_failnth cli_run iommufd_dmabuf \
	shim_vfio_virqfd shim_vfio_lowpower shim_closefd shim_vfio_spapr intfd \
	vtd_iommufd vsmmuv3
# GCC's TSan cannot model atomic_thread_fence (-Wtsan); the seqcount readers
# read every shared field with atomics, so TSan still sees no plain race.
check-tsan: deps deps-tests
	[ -f $(BUILD)-tsan/build.ninja ] || meson setup $(BUILD)-tsan $(MESON_OPTS) \
		-Db_sanitize=thread -Db_lundef=false -Dc_args=-Wno-tsan
	ninja -C $(BUILD)-tsan
	TSAN_OPTIONS=halt_on_error=1 ./scripts/run-tests.sh $(BUILD)-tsan $(TSAN_TESTS)

# libFuzzer runs of the page-table walkers, the iommufd dispatcher, the
# SMMUv3 and VT-d models, the VFIO files, the vSMMUv3 front end and the
# CLI's input files (topology, scenarios, traces) (clang build in
# $(BUILD)-fuzz/).
# New inputs collect in $(BUILD)-fuzz/fuzz-corpus/<target>/, crashes in
# $(BUILD)-fuzz/fuzz-artifacts/; tests/fuzz/corpus/<target>/ seeds each run.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= fuzz_pt_vmsa fuzz_pt_tce fuzz_pt_x86 fuzz_iommufd fuzz_smmuv3_cmdq fuzz_smmuv3_ste \
	fuzz_vfio fuzz_vtd fuzz_inputs fuzz_vsmmu
FUZZ_ARGS ?=
fuzz: deps
	[ -f $(BUILD)-fuzz/build.ninja ] || CC=clang meson setup $(BUILD)-fuzz $(MESON_OPTS) \
		-Dfuzzers=enabled -Dbuildtype=debugoptimized
	ninja -C $(BUILD)-fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)-fuzz/fuzz-corpus/$$t $(BUILD)-fuzz/fuzz-artifacts; \
		echo "== $$t: $(FUZZ_SECONDS) s"; \
		$(BUILD)-fuzz/tests/fuzz/$${t}_libfuzzer -max_total_time=$(FUZZ_SECONDS) \
			-max_len=16424 -timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(BUILD)-fuzz/fuzz-artifacts/$$t- $(FUZZ_ARGS) \
			$(BUILD)-fuzz/fuzz-corpus/$$t tests/fuzz/corpus/$$t; \
	done

bench: build
	./scripts/bench.sh $(BUILD)

install: build
	meson install -C $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz
