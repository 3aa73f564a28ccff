# herd: build, test and run. `make` builds build/herd, `make test` runs every test,
# `make run` starts the herd on its default topology, `make test-asan` runs the
# tests under AddressSanitizer + UndefinedBehaviorSanitizer, `make fuzz` runs each fuzz
# target for FUZZ_S seconds (tests/fuzz/README.md).
# Missing Debian packages are installed with apt-get (see the `deps` target).

# Build on every core unless the command line says otherwise (make -j1 ...).
ifeq (,$(filter -j%,$(MAKEFLAGS)))
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

BUILD    ?= build
CXX      ?= g++
SAN      ?=
OPT      ?= -O2
CXXFLAGS_BASE = -std=c++20 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers -MMD -MP -I.
ifeq ($(SAN),1)
  OPT = -O1
  SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Expanded when a recipe runs, so after `deps` has installed pkg-config's files.
DEP_CFLAGS = $(shell pkg-config --cflags libuv libcurl RapidJSON libsodium)
DEP_LIBS   = $(shell pkg-config --libs libuv libcurl libsodium)

CORE_SRCS  = $(sort $(wildcard node/*.cc))
HOST_SRCS  = $(sort $(wildcard crypto/*.cc net/*.cc net/bench/*.cc sim/*.cc) $(filter-out sim/cli/herd_main.cc,$(wildcard sim/cli/*.cc)))
TEST_SRCS  = $(sort $(wildcard tests/*.cc tests/unit/*.cc tests/e2e/*.cc))
BENCH_SRCS = $(sort $(wildcard tests/bench/*.cc))

obj = $(patsubst %.cc,$(BUILD)/obj/%.o,$(1))
fuzz_obj = $(patsubst %.cc,$(FUZZ_BUILD)/obj/%.o,$(1))
CORE_OBJS  = $(call obj,$(CORE_SRCS))
HOST_OBJS  = $(call obj,$(HOST_SRCS))
TEST_OBJS  = $(call obj,$(TEST_SRCS))

# Each library the build needs: the pkg-config module (or header) that proves it is
# installed, and the Debian package that provides it. Checked on every build (a few
# pkg-config calls), so no stamp file can claim they are there.
PKG_CONFIG ?= pkg-config
APT_GET    ?= apt-get
SUDO       ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DOCTEST_H  ?= /usr/include/doctest/doctest.h
DEP_MODULES = libuv:libuv1-dev libcurl:libcurl4-openssl-dev RapidJSON:rapidjson-dev libsodium:libsodium-dev

.PHONY: all deps browser-deps test test-asan test-ndebug run clean check-core check-tracked bench bench-fidelity fuzz fuzz-build fuzz-deps
all: $(BUILD)/herd

# Installs Debian's packages for whatever pkg-config or the header check cannot find,
# saying what and why; fails, naming the packages, when that does not work.
deps:
	@missing=; \
	if ! command -v $(PKG_CONFIG) >/dev/null 2>&1; then \
	  missing="pkg-config $(foreach m,$(DEP_MODULES),$(lastword $(subst :, ,$(m))))"; \
	else \
	  for m in $(DEP_MODULES); do \
	    $(PKG_CONFIG) --exists "$${m%%:*}" || missing="$$missing $${m#*:}"; \
	  done; \
	fi; \
	[ -f $(DOCTEST_H) ] || missing="$$missing doctest-dev"; \
	missing=$$(echo $$missing); \
	if [ -n "$$missing" ]; then \
	  echo "herd: missing Debian packages: $$missing"; \
	  echo "herd: running:" $(SUDO) $(APT_GET) install -y -q $$missing; \
	  { $(SUDO) $(APT_GET) update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q $$missing; } \
	    || { echo "herd: apt-get failed; install by hand: $$missing"; exit 1; }; \
	fi

# The browser the HTML report's test renders in (tests/e2e/html_report_e2e_test.cc):
# Debian's chromium, installed the way `deps` installs the libraries when the command
# is missing. After `deps`: two apt-gets at once fail on apt's lock (make test runs
# its prerequisites in parallel).
CHROMIUM ?= chromium
browser-deps: deps
	@if ! command -v $(CHROMIUM) >/dev/null 2>&1; then \
	  echo "herd: missing Debian packages: chromium"; \
	  echo "herd: running:" $(SUDO) $(APT_GET) install -y -q chromium; \
	  { $(SUDO) $(APT_GET) update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q chromium; } \
	    || { echo "herd: apt-get failed; install by hand: chromium"; exit 1; }; \
	fi

# The layers (see README, Architecture): node/ is the core and includes only node/,
# the standard library and RapidJSON, and nothing that does I/O, reads a clock or
# draws randomness; net/ (the live host) never includes sim/; sim/ (the virtual host)
# outside its command line (sim/cli/) never includes net/.
NODE_FORBIDDEN = uv\.h|curl/|chrono|random|thread|mutex|atomic|future|fstream|iostream|cstdio|stdio\.h|ctime|time\.h|sys/|unistd\.h|fcntl\.h|filesystem|csignal|signal\.h
check-core:
	@bad=$$( { grep -nE '#include[[:space:]]*<($(NODE_FORBIDDEN))' node/*.h node/*.cc; \
	           grep -nE '#include[[:space:]]*"' node/*.h node/*.cc | grep -vE '#include[[:space:]]*"node/'; \
	           grep -nE '#include[[:space:]]*<[^>]*/' node/*.h node/*.cc | grep -vE '<rapidjson/'; } || true); \
	if [ -n "$$bad" ]; then echo "herd: node/ must include only node/, standard and RapidJSON headers, and do no I/O:"; echo "$$bad"; exit 1; fi
	@bad=$$(grep -nE '#include[[:space:]]*"sim/' net/*.h net/*.cc net/bench/*.h net/bench/*.cc || true); \
	if [ -n "$$bad" ]; then echo "herd: net/ must not include sim/:"; echo "$$bad"; exit 1; fi
	@bad=$$(grep -nE '#include[[:space:]]*"net/' sim/*.h sim/*.cc || true); \
	if [ -n "$$bad" ]; then echo "herd: sim/ outside sim/cli/ must not include net/:"; echo "$$bad"; exit 1; fi

$(BUILD)/obj/%.o: %.cc | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) $(SANFLAGS) $(DEP_CFLAGS) -c $< -o $@

$(BUILD)/libherd.a: $(CORE_OBJS) $(HOST_OBJS) | check-core
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/herd: $(BUILD)/obj/sim/cli/herd_main.o $(BUILD)/libherd.a
	$(CXX) $(SANFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/herd_tests: $(TEST_OBJS) $(BUILD)/libherd.a
	$(CXX) $(SANFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/libherd.a
	@mkdir -p $(dir $@)
	$(CXX) $(SANFLAGS) -o $@ $^ $(DEP_LIBS)

# The herd with every heap allocation counted (tests/bench/counting/alloc_counter.cc):
# for `make bench`'s allocations per IAMAT only; build/herd never links the counter.
$(BUILD)/bench/herd_counting: $(BUILD)/obj/sim/cli/herd_main.o $(BUILD)/obj/tests/bench/counting/alloc_counter.o $(BUILD)/libherd.a
	@mkdir -p $(dir $@)
	$(CXX) $(SANFLAGS) -o $@ $^ $(DEP_LIBS)

test: $(BUILD)/herd $(BUILD)/herd_tests browser-deps
	@HERD_BIN=$(abspath $(BUILD)/herd) HERD_ROOT=$(CURDIR) HERD_CHROMIUM=$(CHROMIUM) sh tests/run.sh $(BUILD)/herd_tests

test-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test

# A release-style build (-DNDEBUG) compiles, and its assertions still check.
test-ndebug:
	@$(MAKE) --no-print-directory BUILD=build-ndebug OPT="-O2 -DNDEBUG" build-ndebug/herd build-ndebug/herd_tests
	@build-ndebug/herd_tests --no-version -tc='assertions*' | tail -n 2

# The floor server, the herd and the asyncio herd side by side (tests/bench/run_bench.sh):
# about two minutes; prints every figure and the ratios. Only the asyncio herd needs
# Python (/usr/bin/python3); without it every other figure is still printed.
bench: $(BUILD)/herd $(patsubst tests/bench/%.cc,$(BUILD)/bench/%,$(BENCH_SRCS)) $(BUILD)/bench/herd_counting
	@HERD_BIN=$(abspath $(BUILD)/herd) BENCH_DIR=$(abspath $(BUILD)/bench) bash tests/bench/run_bench.sh

# The simulator against the live herd, scenario by scenario (tests/bench/fidelity.sh):
# about a minute and a half; a table of both hosts' figures and whether they agree.
bench-fidelity: $(BUILD)/herd
	@HERD_BIN=$(abspath $(BUILD)/herd) bash tests/bench/fidelity.sh

# Fuzzing (tests/fuzz/README.md): each tests/fuzz/<target>.cc is a libFuzzer target,
# built with clang, ASan and UBSan into build-fuzz/, with its seed corpus in
# tests/fuzz/corpus/<target>/ and its dictionary in tests/fuzz/<target>.dict.
# `make fuzz` runs every target for FUZZ_S seconds, one after another (one process:
# the machine is shared); new inputs go to build-fuzz/corpus/, never to the
# repository. A crash, a sanitizer report, a leak or a timeout fails it, naming the
# target and the saved input.
FUZZ_BUILD ?= build-fuzz
FUZZ_CXX   ?= clang++
FUZZ_S     ?= 60
FUZZ_TARGETS = $(patsubst tests/fuzz/%.cc,%,$(sort $(wildcard tests/fuzz/*.cc)))
# The core, the line framer, the MAC and the simulator's parsers and replay: what the
# targets call. None of it needs libuv or libcurl; the MAC needs libsodium.
FUZZ_LIB_SRCS = $(CORE_SRCS) net/line_framer.cc $(sort $(wildcard crypto/*.cc sim/*.cc))
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_IGNORE = tests/fuzz/ubsan_ignore.txt
# RapidJSON 1.1's member iterators compare ambiguously under C++20's rewritten
# operators; clang says so at every loop over an object's members.
FUZZ_CXXFLAGS = -std=c++20 -O1 -g -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
  -Wno-ambiguous-reversed-operator -MMD -MP -I. $(FUZZ_SAN)
FUZZ_RUNTIMES = fuzzer asan ubsan_standalone

# Installs clang and its sanitizer and libFuzzer runtimes when they are missing, the
# way `deps` installs the libraries: Debian's clang-N needs libclang-rt-N-dev for them.
fuzz-deps: deps
	@missing=; \
	if ! command -v $(FUZZ_CXX) >/dev/null 2>&1; then \
	  missing="clang libclang-rt-dev"; \
	else \
	  arch=$$(uname -m); \
	  for rt in $(FUZZ_RUNTIMES); do \
	    lib=$$($(FUZZ_CXX) -print-file-name=libclang_rt.$$rt-$$arch.a 2>/dev/null); \
	    [ -f "$$lib" ] || missing="libclang-rt-$$($(FUZZ_CXX) -dumpversion | cut -d. -f1)-dev"; \
	  done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "herd: missing Debian packages: $$missing"; \
	  echo "herd: running:" $(SUDO) $(APT_GET) install -y -q $$missing; \
	  { $(SUDO) $(APT_GET) update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q $$missing; } \
	    || { echo "herd: apt-get failed; install by hand: $$missing"; exit 1; }; \
	fi

$(FUZZ_BUILD)/obj/%.o: %.cc $(FUZZ_IGNORE) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -fsanitize-ignorelist=$(FUZZ_IGNORE) $(DEP_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libherd-fuzz.a: $(call fuzz_obj,$(FUZZ_LIB_SRCS)) | check-core
	@rm -f $@
	ar rcs $@ $^

FUZZ_BINS = $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_BUILD)/libherd-fuzz.a
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(shell pkg-config --libs libsodium)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_S=$(FUZZ_S) FUZZ_BUILD=$(FUZZ_BUILD) sh tests/fuzz/run.sh $(FUZZ_TARGETS)

run: $(BUILD)/herd
	./$(BUILD)/herd run

clean:
	rm -rf build build-asan build-ndebug build-fuzz

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
