# SPDX-License-Identifier: MIT
# profreg — sampling CPU profiler with regression judging.
#
#   make            build build/libprofreg.so and build/profreg
#   make check      build and run the Check test suite
#   make stress     the preload under stress scenarios, each against an unprofiled run
#   make demo       run the CI wrapper on the bundled demo workload (profile, archive, judge)
#   make bench      measure overhead (vs gperftools), exit-time symbolization, compare speed,
#                   the memory layer's cost (vs heaptrack, gperftools' heap profiler)
#   make fuzz       libFuzzer (clang) on the profile, baseline, folded and history readers,
#                   FUZZ_SECONDS (default 10) each, in build-fuzz/
#   make sanitize   the CLI, the unit tests and the CLI's integration tests built with
#                   ASan+UBSan in build-asan/, and the preload under ASan on a few workloads
#   make install    PREFIX=/usr/local (DESTDIR honoured)
#
# Missing Debian packages are installed by scripts/ensure-deps when run as root; otherwise
# it prints the apt-get command to run.

VERSION := 0.1.0
BUILD   := build
PREFIX  ?= /usr/local
DESTDIR ?=

CC  := gcc
CXX := g++
OPT ?= -O2 -g

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wundef -Wpointer-arith -Wvla
CWARN := $(WARN) -Wmissing-prototypes -Wstrict-prototypes
CPPFLAGS_ALL = -D_GNU_SOURCE -Isrc -Iinclude -DPROFREG_VERSION='"$(VERSION)"'
CFLAGS_ALL   = -std=gnu11 $(OPT) $(CWARN) -fPIC -fvisibility=hidden $(CPPFLAGS_ALL) $(CFLAGS)
LIBIBERTY    = $(shell $(CC) -print-file-name=libiberty.a)

# --- sources -----------------------------------------------------------------------------
CORE_SRC    := $(addprefix src/core/,json_write.c profile.c profile_fold.c profile_write.c regions.c \
                 fsutil.c hashmap.c utf8.c memory.c intern.c sort.c)
SYM_SRC     := $(addprefix src/symbolize/,symbolize.c debuginfo.c dwarf_index.c dwarf_raw.c \
                 dwarf_names.c dwarf_files.c aranges.c plt.c profile_build.c memory_build.c symcache.c \
                 unitcache.c)
PRELOAD_SRC := preload/preload.c preload/settings.c preload/timers.c preload/stacktab.c \
               preload/threads.c preload/output.c preload/intercept.c preload/unwind.c \
               preload/memprof.c preload/api.c
# Reading, judging, rendering and exporting profiles: linked into the CLI only.
ANALYSIS_SRC := $(wildcard src/analysis/read/*.c src/analysis/judge/*.c src/analysis/render/*.c \
                  src/analysis/export/*.c)
CLI_SRC     := $(wildcard src/cli/*.c) $(ANALYSIS_SRC)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB := $(BUILD)/libprofreg.so
CLI := $(BUILD)/profreg

.PHONY: all check check-unit check-integration memcheck demo bench install uninstall clean \
        deps deps-check deps-bench format lint judge-eval judge-aa check-slow stress fuzz sanitize \
        deps-fuzz
all: $(LIB) $(CLI)

# Dependencies: checked on every build (fast when present), installed when root.
deps:
	@sh scripts/ensure-deps build
deps-check: deps
	@sh scripts/ensure-deps check
deps-bench: deps
	@sh scripts/ensure-deps bench
deps-fuzz: deps
	@sh scripts/ensure-deps fuzz

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(call obj,$(PRELOAD_SRC) $(SYM_SRC) $(CORE_SRC)) preload/exports.map | deps
	$(CC) -shared -o $@ $(filter %.o,$^) -Wl,--version-script=preload/exports.map \
	    -Wl,--exclude-libs,ALL -Wl,-z,defs -Wl,-z,now $(LIBIBERTY) \
	    $$(pkg-config --libs libunwind libdw libelf) -lpthread -ldl -lm $(LDFLAGS)

# The interposed malloc family must never be turned into calls of itself (calloc from
# malloc + memset, and the like); operator new's cleanups run when it throws.
$(BUILD)/obj/preload/memprof.o: CFLAGS_ALL += -fno-builtin -fexceptions

$(CLI): $(call obj,$(CLI_SRC) $(CORE_SRC)) | deps
	$(CC) -o $@ $^ $$(pkg-config --libs jansson zlib) -lm -pthread $(LDFLAGS)

# --- workloads: programs with CPU shares fixed by work counts ------------------------------
WL_CFLAGS   = -O2 -g $(WARN) -Itests/workloads -Iinclude
WL_C        := $(wildcard tests/workloads/*.c)
WL_CXX      := $(wildcard tests/workloads/*.cpp)
WORKLOADS   := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(WL_C)) \
               $(patsubst tests/workloads/%.cpp,$(BUILD)/workloads/%,$(WL_CXX))
DEMO        := $(BUILD)/examples/demo_sim

$(BUILD)/workloads/%: tests/workloads/%.c tests/workloads/burn.h | deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WL_CFLAGS) -o $@ $< -lpthread -lm

$(BUILD)/workloads/%: tests/workloads/%.cpp tests/workloads/burn.h | deps
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WL_CFLAGS) -o $@ $< -lpthread

# paired.c rebuilt with more work in one function: the "slower build" of the paired-runs tests
WORKLOADS   += $(BUILD)/workloads/paired_slow
$(BUILD)/workloads/paired_slow: tests/workloads/paired.c tests/workloads/burn.h | deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WL_CFLAGS) -DCHANGED_UNITS=280 -o $@ $< -lpthread -lm

# The public API's workload built without position-independent code: the header looks the
# API up with dlsym there instead of through weak references.
WORKLOADS   += $(BUILD)/workloads/regions_nopie
$(BUILD)/workloads/regions_nopie: tests/workloads/regions.c tests/workloads/burn.h include/profreg.h | deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WL_CFLAGS) -fno-pie -no-pie -o $@ $< -lpthread -lm

$(BUILD)/workloads/regions: include/profreg.h
$(BUILD)/workloads/regions_cxx: include/profreg.h

# Realistic workloads (Debian: libgtest-dev libeigen3-dev libbenchmark-dev, in ensure-deps'
# check group): a gtest executable with a fixture, Eigen math inlined into the functions that
# work, a GCC clone and a recorder thread; a Google Benchmark executable. gtest_sim_noclone is
# the same source rebuilt with -fno-ipa-cp (no [clone .constprop.0]; every other function of
# the file compiles to the same size — -fno-ipa-sra or -fno-partial-inlining would also change
# how Eigen is inlined): the rebuild check_realistic judges against gtest_sim's baseline.
WL_REAL_CXX  = $(CXX) -std=c++17 $(WL_CFLAGS) -isystem /usr/include/eigen3
WORKLOADS   += $(BUILD)/workloads/gtest_sim_noclone

$(BUILD)/workloads/gtest_sim: tests/workloads/gtest_sim.cpp | deps-check
	@mkdir -p $(dir $@)
	$(WL_REAL_CXX) -o $@ $< -lgtest -lgtest_main -lpthread

$(BUILD)/workloads/gtest_sim_noclone: tests/workloads/gtest_sim.cpp | deps-check
	@mkdir -p $(dir $@)
	$(WL_REAL_CXX) -fno-ipa-cp -o $@ $< -lgtest -lgtest_main -lpthread

$(BUILD)/workloads/bench_sim: tests/workloads/bench_sim.cpp tests/workloads/burn.h | deps-check
	@mkdir -p $(dir $@)
	$(WL_REAL_CXX) -o $@ $< -lbenchmark -lpthread

# The per-test attribution workload (check_bytest): a gtest executable, Debian's libgtest-dev.
$(BUILD)/workloads/bytest_gtest: tests/workloads/bytest_gtest.cpp tests/workloads/burn.h | deps-check
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WL_CFLAGS) -o $@ $< -lgtest -lgtest_main -lpthread

# Inlined Eigen code, a lambda and a .constprop clone, for check_names (libeigen3-dev).
$(BUILD)/workloads/inline_names: tests/workloads/inline_names.cpp tests/workloads/burn.h | deps-check
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WL_CFLAGS) -isystem /usr/include/eigen3 -o $@ $<

$(DEMO): examples/demo_sim.cpp tests/workloads/burn.h | deps
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WL_CFLAGS) -o $@ $<

# Libraries for the symbolizer tests: no debug info at all; debug info found through
# .gnu_debuglink; debug info found by build-id under a debug directory of the test's own.
TESTLIBS := $(BUILD)/testlibs/libstripped.so $(BUILD)/testlibs/libdebuglink.so \
            $(BUILD)/testlibs/libbuildid.so $(BUILD)/testlibs/libplugin.so \
            $(BUILD)/testlibs/static_hello $(BUILD)/testlibs/inline_names_dwarf4 \
            $(BUILD)/testlibs/noperf $(BUILD)/testlibs/libdlsym_alloc.so

# Runs a command where perf_event_open fails (a seccomp filter), for check_clock.
$(BUILD)/testlibs/noperf: tests/lib/noperf.c | deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

# DWARF 4 (another line program header and file numbering), for check_dwarf_files.
$(BUILD)/testlibs/inline_names_dwarf4: tests/workloads/inline_names.cpp tests/workloads/burn.h | deps-check
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WL_CFLAGS) -gdwarf-4 -isystem /usr/include/eigen3 -o $@ $<

# A dlsym that allocates (as older glibc's did), preloaded after libprofreg.so: check_memory
# runs profreg's bootstrap arena with it.
$(BUILD)/testlibs/libdlsym_alloc.so: tests/lib/dlsym_alloc.c | deps
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 $(WARN) -o $@ $< -ldl

# A library the torture workload loads and unloads; a program LD_PRELOAD cannot apply to.
$(BUILD)/testlibs/libplugin.so: tests/lib/plugin.c tests/workloads/burn.h | deps
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -g -Itests/workloads -o $@ $<

$(BUILD)/testlibs/static_hello: tests/lib/static_hello.c | deps
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -o $@ $<

$(BUILD)/testlibs/libstripped.so: tests/lib/stripped.c | deps
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -s -o $@ $<

$(BUILD)/testlibs/libdebuglink.so: tests/lib/debuglink.c | deps
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -g -o $@.full $<
	objcopy --only-keep-debug $@.full $@.debug
	objcopy --strip-debug --add-gnu-debuglink=$@.debug $@.full $@
	rm -f $@.full

$(BUILD)/testlibs/libbuildid.so: tests/lib/buildid.c | deps
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -g -Wl,--build-id=sha1 -o $@.full $<
	id=$$(readelf -n $@.full | sed -n 's/.*Build ID: *//p'); \
	    dir=$(BUILD)/testlibs/debugroot/.build-id/$$(echo $$id | cut -c1-2); \
	    rm -rf $(BUILD)/testlibs/debugroot && mkdir -p $$dir && \
	    objcopy --only-keep-debug --compress-debug-sections=zlib $@.full \
	        $$dir/$$(echo $$id | cut -c3-).debug
	objcopy --strip-debug $@.full $@
	rm -f $@.full

# --- tests (Check) -----------------------------------------------------------------------
UNIT_SRC    := $(wildcard tests/unit/check_*.c)
UNIT_BIN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
INTEG_SRC   := $(wildcard tests/integration/check_*.c)
INTEG_BIN   := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(INTEG_SRC))
TEST_CFLAGS  = -std=gnu11 -O1 -g $(WARN) $(CPPFLAGS_ALL) -Ipreload \
               -Itests $$(pkg-config --cflags check)
TEST_LIBS    = $$(pkg-config --libs check jansson zlib libunwind libdw libelf) $(LIBIBERTY) -lpthread -lm -ldl
TEST_OBJS   := $(call obj,$(CORE_SRC) $(SYM_SRC) $(ANALYSIS_SRC) preload/settings.c preload/stacktab.c)

$(BUILD)/tests/%: tests/unit/%.c tests/testutil.c tests/testutil.h tests/sim.c tests/sim.h $(TEST_OBJS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< tests/testutil.c tests/sim.c $(TEST_OBJS) $(TEST_LIBS)

$(BUILD)/tests/%: tests/integration/%.c tests/testutil.c tests/testutil.h $(TEST_OBJS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< tests/testutil.c $(TEST_OBJS) $(TEST_LIBS)

# check_help also links the commands (src/cli/ but main.c): it checks every --help against the
# option table it comes from.
CLI_CMD_OBJS := $(call obj,$(filter-out src/cli/main.c,$(wildcard src/cli/*.c)))
$(BUILD)/tests/check_help: tests/integration/check_help.c tests/testutil.c tests/testutil.h $(TEST_OBJS) $(CLI_CMD_OBJS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< tests/testutil.c $(TEST_OBJS) $(CLI_CMD_OBJS) $(TEST_LIBS)

# Tests find the build through PROFREG_BUILD (absolute) and sources through PROFREG_SRC.
# The debug-info cache goes under build/ so that tests never write into $HOME.
TEST_ENV = PROFREG_BUILD=$(CURDIR)/$(BUILD) PROFREG_SRC=$(CURDIR) CK_DEFAULT_TIMEOUT=120 \
           PROFREG_CACHE_DIR=$(CURDIR)/$(BUILD)/test-cache

check: deps-check all $(WORKLOADS) $(DEMO) $(TESTLIBS) $(UNIT_BIN) $(INTEG_BIN)
	@fail=0; for t in $(UNIT_BIN) $(INTEG_BIN); do \
	    echo "== $$t"; $(TEST_ENV) $$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "make check: FAILED"; exit 1; fi; echo "make check: all tests passed"

check-unit: deps-check all $(TESTLIBS) $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do $(TEST_ENV) $$t || fail=1; done; exit $$fail

check-integration: deps-check all $(WORKLOADS) $(DEMO) $(INTEG_BIN)
	@fail=0; for t in $(INTEG_BIN); do $(TEST_ENV) $$t || fail=1; done; exit $$fail

# Slow checks, not in make check (CI runs them after it): check_realistic with PROFREG_SLOW=1
# runs its slow case instead of its others — the realistic gtest workload at about 4 s of CPU a
# run, 5 runs a side, and a 2.5x slowdown of a function at about 1 % must be named (about 1 min).
check-slow: deps-check all $(BUILD)/workloads/gtest_sim $(BUILD)/tests/check_realistic
	$(TEST_ENV) PROFREG_SLOW=1 $(BUILD)/tests/check_realistic

# The preload under stress (run by .ci/run after make check): threads churning, 10 kHz, deep
# recursion, vfork/posix_spawn/clone, dlopen loops, exceptions, longjmp, close_range, a tiny
# RLIMIT_NOFILE, read-only and full output, a removed working directory, 8 writers; each
# against an unprofiled run (scripts/stress.sh; about 10 s).
stress: all $(BUILD)/workloads/torture $(BUILD)/workloads/exceptions $(BUILD)/testlibs/libplugin.so
	bash scripts/stress.sh $(BUILD)

# The CLI under valgrind (run by .ci/run after make check).
memcheck: deps-check all $(WORKLOADS)
	@sh scripts/ensure-deps memcheck
	sh scripts/memcheck.sh $(BUILD)

# --- fuzzing (make fuzz) ---------------------------------------------------------------------
# libFuzzer harnesses (tests/fuzz/fuzz_*.c) for the readers of untrusted files: profile JSON,
# baselines, folded stacks, history lines; each also checks what the code does with what it
# accepted (round trips, XML and terminal safety; tests/fuzz/README.md). The readers are built
# with clang, -fsanitize=fuzzer,address,undefined, in build-fuzz/. Each harness runs
# FUZZ_SECONDS, starting from the committed seeds (tests/fuzz/corpus/NAME, never written) and
# what earlier runs found (build-fuzz/corpus/NAME); a crash or a failed oracle stops make fuzz
# with the input in build-fuzz/artifacts/NAME/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 10
FUZZ_BUILD   := build-fuzz
FUZZ_NAMES   := profile baseline folded history
FUZZ_FLAGS    = -std=gnu11 -O1 -g -fno-omit-frame-pointer $(CWARN) $(CPPFLAGS_ALL) \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRC) $(ANALYSIS_SRC))
.SECONDARY: $(FUZZ_OBJS) # not intermediate files to delete: the next make fuzz reuses them

$(FUZZ_BUILD)/obj/%.o: %.c | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS) | deps-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
	    $$(pkg-config --libs jansson zlib) -lm -pthread

fuzz: $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_NAMES))
	@for t in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t || exit 1; \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ \
	        $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log; \
	    rc=$$?; grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_BUILD)/fuzz_$$t.log; \
	    if [ $$rc -ne 0 ]; then tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; \
	        echo "make fuzz: fuzz_$$t FAILED (input in $(FUZZ_BUILD)/artifacts/$$t/)"; exit 1; fi; \
	done; echo "make fuzz: no crash, no failed oracle"

# --- sanitizers (make sanitize) --------------------------------------------------------------
# The CLI, the unit tests and the integration tests that exercise the CLI, built with
# AddressSanitizer and UndefinedBehaviorSanitizer (every report fatal) in build-asan/, and run
# with PROFREG_BUILD there: its libprofreg.so, workloads/, examples/ and testlibs/ are hard
# links to build/'s (a program's path is its own), so programs recorded by the tests run under
# the ordinary preload. The preload built
# with the sanitizers (build-asan/preload/libprofreg.so) is run by scripts/sanitize-preload.sh
# on a few workloads with the ASan runtime preloaded before it (an uninstrumented program
# cannot load an instrumented library otherwise). Which suites, and why: docs/design.md.
SAN_BUILD := $(BUILD)-asan
SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS = $(CFLAGS_ALL) -O1 $(SAN_FLAGS)
sanobj      = $(patsubst %.c,$(SAN_BUILD)/obj/%.o,$(1))
SAN_UNIT    := $(patsubst tests/unit/%.c,$(SAN_BUILD)/tests/%,$(UNIT_SRC))
# (check_ci, the CI wrapper around the same commands, takes a minute more and adds no CLI path)
SAN_INTEG   := $(addprefix $(SAN_BUILD)/tests/,check_cli check_compare check_flame_cli \
                 check_outputs check_judge_real check_bytest)
SAN_TEST_OBJS = $(call sanobj,$(CORE_SRC) $(SYM_SRC) $(ANALYSIS_SRC) preload/settings.c preload/stacktab.c)

$(SAN_BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(SAN_BUILD)/profreg: $(call sanobj,$(CLI_SRC) $(CORE_SRC)) | deps
	$(CC) $(SAN_FLAGS) -o $@ $^ $$(pkg-config --libs jansson zlib) -lm -pthread $(LDFLAGS)

$(SAN_BUILD)/preload/libprofreg.so: $(call sanobj,$(PRELOAD_SRC) $(SYM_SRC) $(CORE_SRC)) preload/exports.map | deps
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -shared -o $@ $(filter %.o,$^) -Wl,--version-script=preload/exports.map \
	    -Wl,--exclude-libs,ALL -Wl,-z,now $(LIBIBERTY) \
	    $$(pkg-config --libs libunwind libdw libelf) -lpthread -ldl $(LDFLAGS)

# The test programs themselves do not look for leaks (tests/lib/san_options.c): only the
# programs they test do.
$(SAN_BUILD)/tests/%: tests/unit/%.c tests/testutil.c tests/testutil.h tests/sim.c tests/sim.h tests/lib/san_options.c $(SAN_TEST_OBJS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $< tests/testutil.c tests/sim.c tests/lib/san_options.c $(SAN_TEST_OBJS) $(TEST_LIBS)

$(SAN_BUILD)/tests/%: tests/integration/%.c tests/testutil.c tests/testutil.h tests/lib/san_options.c $(SAN_TEST_OBJS) | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) -o $@ $< tests/testutil.c tests/lib/san_options.c $(SAN_TEST_OBJS) $(TEST_LIBS)

SAN_ENV = PROFREG_BUILD=$(CURDIR)/$(SAN_BUILD) PROFREG_SRC=$(CURDIR) CK_DEFAULT_TIMEOUT=300 \
          CK_MAX_MSG_SIZE=65536 PROFREG_CACHE_DIR=$(CURDIR)/$(SAN_BUILD)/test-cache \
          UBSAN_OPTIONS=print_stacktrace=1

sanitize: deps-check all $(WORKLOADS) $(DEMO) $(TESTLIBS) $(SAN_BUILD)/profreg \
          $(SAN_BUILD)/preload/libprofreg.so $(SAN_UNIT) $(SAN_INTEG)
	@for d in workloads examples testlibs libprofreg.so; do \
	    rm -rf $(SAN_BUILD)/$$d && cp -al $(BUILD)/$$d $(SAN_BUILD)/$$d || exit 1; done
	@fail=0; for t in $(SAN_UNIT) $(SAN_INTEG); do \
	    echo "== $$t"; $(SAN_ENV) $$t || fail=1; \
	done; \
	echo "== the preload under ASan+UBSan"; \
	sh scripts/sanitize-preload.sh $(BUILD) $(SAN_BUILD) || fail=1; \
	if [ $$fail -ne 0 ]; then echo "make sanitize: FAILED"; exit 1; fi; \
	echo "make sanitize: all passed, no sanitizer report"

# --- demo and bench ------------------------------------------------------------------------
# The CI wrapper on the demo: 3 runs, archived under artifacts/, judged against the committed
# baselines/demo_sim/baseline.json.
# The committed demo baseline was recorded on a developer's machine: function shares carry
# over to any machine, run times and memory do not (a slower CPU is not a regression), so the
# demo judges those loosely. Judge times strictly only against baselines from the same
# machine class (docs/judging.md).
DEMO_JUDGE := --compare-arg --time-threshold --compare-arg 200 \
              --compare-arg --memory-threshold --compare-arg 100
demo: all $(DEMO)
	bash scripts/profreg-ci -n 3 $(DEMO_JUDGE) -- $(DEMO)

# The judge on simulated profiles (false alarms, detection; docs/judging.md), and on 20 real
# runs of the demo with nothing changed (the real A/A check).
$(BUILD)/judge_eval: tests/eval/judge_eval.c tests/sim.c tests/sim.h $(call obj,$(ANALYSIS_SRC) $(CORE_SRC)) | deps
	$(CC) -std=gnu11 -O2 -g $(WARN) $(CPPFLAGS_ALL) -o $@ tests/eval/judge_eval.c tests/sim.c \
	    $(call obj,$(ANALYSIS_SRC) $(CORE_SRC)) $$(pkg-config --libs jansson zlib) -lm -pthread
judge-eval: $(BUILD)/judge_eval
	$(BUILD)/judge_eval 1000 1
judge-aa: all $(DEMO)
	bash scripts/judge-aa.sh $(BUILD)

# The symbolizer benchmark's driver: file offsets -> frames as the preload resolves them at exit
# (symbol cache in front of libdw), for scripts/bench-symbolize.sh.
$(BUILD)/symbolize_bench: tests/eval/symbolize_bench.c $(call obj,$(SYM_SRC) $(CORE_SRC)) | deps
	$(CC) -std=gnu11 -O2 -g $(WARN) $(CPPFLAGS_ALL) -o $@ $< $(call obj,$(SYM_SRC) $(CORE_SRC)) \
	    $(LIBIBERTY) $$(pkg-config --libs libdw libelf) -ldl -lm

# Preloaded into a program: resolves a fixed list of the executable's file offsets as the
# preload does at exit, then exits (the exit work on a large PIE binary, for perf/callgrind).
$(BUILD)/libsymreplay.so: tests/eval/symreplay.c $(call obj,$(SYM_SRC) $(CORE_SRC)) | deps
	$(CC) -std=gnu11 -O2 -g $(WARN) $(CPPFLAGS_ALL) -shared -fPIC -o $@ $< \
	    $(call obj,$(SYM_SRC) $(CORE_SRC)) $(LIBIBERTY) $$(pkg-config --libs libdw libelf) -ldl -lm

# A perf-event signal with an empty handler, preloaded: what a sample costs before profreg's
# handler runs (scripts/bench.sh subtracts it).
$(BUILD)/libbaresig.so: tests/eval/baresig.c | deps
	$(CC) -std=gnu11 -O2 $(WARN) -shared -fPIC -o $@ $<

# The public API's cost per call (include/profreg.h), built as a user would: no profreg library.
$(BUILD)/region_bench: tests/eval/region_bench.c include/profreg.h | deps
	$(CC) -std=gnu11 -O2 -g $(WARN) -Iinclude -o $@ $<

bench: deps-bench all $(WORKLOADS) $(BUILD)/symbolize_bench $(BUILD)/libbaresig.so \
       $(BUILD)/region_bench
	sh scripts/bench.sh $(BUILD)
	$(BUILD)/region_bench
	LD_PRELOAD=$(CURDIR)/$(LIB) PROFREG_OUTPUT=/dev/null PROFREG_QUIET=1 $(BUILD)/region_bench
	sh scripts/bench-compare.sh $(BUILD)
	sh scripts/bench-symbolize.sh $(BUILD)
	sh scripts/bench-exit.sh $(BUILD)
	sh scripts/bench-memory.sh $(BUILD)

# --- install -------------------------------------------------------------------------------
# The public API: include/profreg.h (header only) and profreg.pc, whose `preload` variable is
# the library to LD_PRELOAD (pkg-config --variable=preload profreg).
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
$(BUILD)/profreg.pc: Makefile include/profreg.h
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' \
	    'preload=$${libdir}/libprofreg.so' '' 'Name: profreg' \
	    'Description: sampling CPU profiler: the public API (header only; LD_PRELOAD the preload)' \
	    'Version: $(VERSION)' 'Cflags: -I$${includedir}' > $@

install: all $(BUILD)/profreg.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/profreg
	install -m 755 $(LIB) $(DESTDIR)$(LIBDIR)/libprofreg.so
	install -m 644 include/profreg.h $(DESTDIR)$(INCLUDEDIR)/profreg.h
	install -m 644 $(BUILD)/profreg.pc $(DESTDIR)$(PKGCONFIGDIR)/profreg.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/profreg $(DESTDIR)$(LIBDIR)/libprofreg.so \
	    $(DESTDIR)$(INCLUDEDIR)/profreg.h $(DESTDIR)$(PKGCONFIGDIR)/profreg.pc

# --- housekeeping --------------------------------------------------------------------------
format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

lint:
	@sh scripts/ensure-deps lint
	sh scripts/check-layers.sh
	sh scripts/check-handler.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	    -D_GNU_SOURCE -Isrc -Iinclude -Ipreload src preload

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)

-include $(shell find $(BUILD)/obj $(SAN_BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
