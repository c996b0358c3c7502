# xbpf: `make` builds, `make demo` shows it working, `make test` runs every test (release and ASan+UBSan).
# Both demo and test first install what is missing (scripts/install-deps).
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=

.PHONY: all build deps demo test test-release test-asan bench format check-format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXBPF_SANITIZE=ON -DXBPF_BUILD_BENCH=OFF $(CMAKE_FLAGS)

demo: deps build
	@examples/demo.sh $(BUILD)/xbpf

test: deps
	$(MAKE) check-format
	$(MAKE) test-release
	$(MAKE) test-asan

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

bench: build
	bench/run.sh $(BUILD)

FORMAT_FILES = $(shell git ls-files '*.cpp' '*.hpp' '*.h' | grep -v '^tests/programs/\|^bench/kernels/')

format:
	clang-format -i $(FORMAT_FILES)

check-format:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "clang-format: clean"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
