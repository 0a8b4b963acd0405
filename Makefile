# SPDX-License-Identifier: MIT
# The README's commands. Each first installs what is missing (Debian 12).
BUILD ?= build
MESON_OPTS ?=
ifeq ($(CI),true)
MESON_OPTS += -Dwerror=true
endif

.PHONY: all deps build demo check check-asan bench install clean format

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	./scripts/demo.sh $(BUILD)

check: build
	./scripts/run-tests.sh $(BUILD)

check-asan: deps
	[ -f $(BUILD)-asan/build.ninja ] || meson setup $(BUILD)-asan $(MESON_OPTS) \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C $(BUILD)-asan
	./scripts/run-tests.sh $(BUILD)-asan

bench: build
	./scripts/bench.sh $(BUILD)

install: build
	meson install -C $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD)-asan
