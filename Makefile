# PicoVolt: plain Makefile.
#
#   make            libpv (static + shared), pvdev, pvbake
#   make test       unit tests (cmocka; the read path's also under valgrind memcheck)
#                   and end-to-end tests (real git, sqlite3)
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan (build-san/)
#   make demo       the end-to-end path on the real airports data
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# Missing Debian packages are installed by scripts/deps.sh (as root) or the
# exact apt-get command is printed.

.DEFAULT_GOAL := all

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
SANITIZE ?=

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     ?= -O1 -g
else
BUILD   ?= build
SANFLAGS :=
OPT     ?= -O2 -g
endif

PV_VERSION := 0.1.0
PV_SOVER   := 0

WARN := -Wall -Wextra -Werror -Wshadow -Wcast-align -Wformat=2 -Wvla \
        -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wundef
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -MMD -MP \
        -DPV_VERSION_STRING='"$(PV_VERSION)"'
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

# Flags of every dependency, written by scripts/configure.sh (which installs
# missing packages first). GNU make remakes an included makefile and restarts,
# so a fresh clone needs nothing but `make`.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
include $(BUILD)/config.mk
endif
$(BUILD)/config.mk: scripts/configure.sh scripts/deps.sh
	@mkdir -p $(BUILD)
	sh scripts/configure.sh build > $@.tmp && mv $@.tmp $@

LIBPV_CFLAGS := $(ZSTD_CFLAGS) $(XXH_CFLAGS) $(MD_CFLAGS)
LIBPV_LIBS   := $(ZSTD_LIBS) $(XXH_LIBS) $(MD_LIBS) -lm -lpthread

LIBPV_SRC  := $(sort $(wildcard libpv/*.c))
PVDEV_SRC  := $(sort $(wildcard pvdev/*.c))
PVBAKE_SRC := $(sort $(wildcard pvbake/*.c))
PVGIT_SRC  := $(sort $(wildcard pvgit/*.c))
TEST_SRC   := $(sort $(wildcard tests/unit/test_*.c))

LIBPV_OBJ  := $(LIBPV_SRC:%.c=$(BUILD)/obj/%.o)
PVDEV_OBJ  := $(PVDEV_SRC:%.c=$(BUILD)/obj/%.o)
PVBAKE_OBJ := $(PVBAKE_SRC:%.c=$(BUILD)/obj/%.o)
PVGIT_OBJ  := $(PVGIT_SRC:%.c=$(BUILD)/obj/%.o)
# Everything of pvdev but its main(), so unit tests can link its modules.
PVDEV_LIBOBJ := $(filter-out $(BUILD)/obj/pvdev/main.o,$(PVDEV_OBJ))
TEST_BIN   := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIBPV_A  := $(BUILD)/libpv.a
# Git access shared by pvdev and pvbake (libgit2); never part of libpv.
PVGIT_A  := $(BUILD)/libpvgit.a
LIBPV_SO := $(BUILD)/libpv.so.$(PV_VERSION)
PVDEV    := $(BUILD)/pvdev
PVBAKE   := $(BUILD)/pvbake

.PHONY: all test demo install uninstall clean
all: $(LIBPV_A) $(LIBPV_SO) $(PVDEV) $(PVBAKE)

# Cold code, compiled for size (issue 7: libpv.so stripped under 500 KB):
# the SQL parser (once per pv_prepare), DDL, DML, EXPLAIN, the workspace's
# writes, commits, journal, schema files, compaction, fsck and pv_reopen, the
# bake's file writer (its encoders are the read path's) and pv_verify.
# The read path (scans, filters, aggregates, lookups, a workspace's load)
# stays at $(OPT).
LIBPV_COLD := sql_parse exec_ddl exec_dml exec_explain ws_write ws_txn ws_journal ws_ddl \
              schema_file ws_maint ws_fsck ws_fsck_snap ws_reopen pvdb_write pvdb_verify
ifneq ($(SANITIZE),1)
$(LIBPV_COLD:%=$(BUILD)/obj/libpv/%.o): COLD_CFLAGS := -Os
endif

# One section per function and object, so that the link of libpv.so drops
# what no function of pv.h reaches (--gc-sections): the bake's writer,
# compaction, the merge's conflict records and the like are the tools'
# (they link libpv.a), not an application's (495 -> 421 KB stripped).
$(BUILD)/obj/libpv/%.o: libpv/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(COLD_CFLAGS) -fPIC -fvisibility=hidden -ffunction-sections -fdata-sections \
	    $(LIBPV_CFLAGS) $(CFLAGS) -c $< -o $@

# pvdev's own libraries: libcsv (CSV), jansson (NDJSON), libedit (the shell).
PVDEV_CFLAGS := -DPVDEV_HAVE_LIBEDIT -DPVDEV_HAVE_JANSSON $(CSV_CFLAGS) $(EDIT_CFLAGS) $(JANSSON_CFLAGS)
PVDEV_LIBS   := $(CSV_LIBS) $(EDIT_LIBS) $(JANSSON_LIBS)

$(BUILD)/obj/pvdev/%.o: pvdev/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ilibpv -Ipvgit $(LIBPV_CFLAGS) $(GIT2_CFLAGS) $(PVDEV_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/pvbake/%.o: pvbake/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ilibpv -Ipvgit $(LIBPV_CFLAGS) $(GIT2_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/pvgit/%.o: pvgit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ilibpv $(LIBPV_CFLAGS) $(GIT2_CFLAGS) $(CFLAGS) -c $< -o $@

$(PVGIT_A): $(PVGIT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBPV_A): $(LIBPV_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBPV_SO): $(LIBPV_OBJ)
	$(CC) -shared -Wl,-soname,libpv.so.$(PV_SOVER) -Wl,--no-undefined -Wl,--gc-sections \
	    -o $@ $^ $(LDFLAGS_ALL) $(LIBPV_LIBS)
	ln -sf libpv.so.$(PV_VERSION) $(BUILD)/libpv.so.$(PV_SOVER)
	ln -sf libpv.so.$(PV_VERSION) $(BUILD)/libpv.so

# The tools link libpv statically: they use its internal modules too.
$(PVDEV): $(PVDEV_OBJ) $(PVGIT_A) $(LIBPV_A)
	$(CC) -o $@ $(PVDEV_OBJ) $(PVGIT_A) $(LIBPV_A) $(LDFLAGS_ALL) $(GIT2_LIBS) $(PVDEV_LIBS) $(LIBPV_LIBS)

$(PVBAKE): $(PVBAKE_OBJ) $(PVGIT_A) $(LIBPV_A)
	$(CC) -o $@ $(PVBAKE_OBJ) $(PVGIT_A) $(LIBPV_A) $(LDFLAGS_ALL) $(GIT2_LIBS) $(LIBPV_LIBS)

# ---- tests -----------------------------------------------------------------
# cmocka, git and sqlite3 are test-only needs: checked (and installed) here.
$(BUILD)/.deps-test: scripts/deps.sh
	@mkdir -p $(BUILD)
	sh scripts/deps.sh test
	@touch $@

CMOCKA_FLAGS = $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS_ = $(shell pkg-config --libs cmocka)

$(BUILD)/tests/%: tests/unit/%.c $(LIBPV_A) $(PVGIT_A) $(PVDEV_LIBOBJ) | $(BUILD)/.deps-test
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ilibpv -Ipvdev -Ipvgit $(LIBPV_CFLAGS) $(GIT2_CFLAGS) $(PVDEV_CFLAGS) $(CMOCKA_FLAGS) \
	    $(CFLAGS) -DPV_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(PVDEV_LIBOBJ) $(PVGIT_A) $(LIBPV_A) \
	    $(LDFLAGS_ALL) $(CMOCKA_LIBS_) $(GIT2_LIBS) $(PVDEV_LIBS) $(LIBPV_LIBS)

# test_faults: the N-th allocation, write or fsync fails. The linker sends
# those calls (from libpv, pvdev's modules and the test) to the test's
# __wrap_* functions, so fault injection needs no change to library sources.
FAULT_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup \
              -Wl,--wrap=strndup,--wrap=asprintf,--wrap=write,--wrap=pwrite,--wrap=fsync \
              -Wl,--wrap=open,--wrap=rename,--wrap=unlink,--wrap=rmdir,--wrap=mkdir,--wrap=ftruncate
$(BUILD)/tests/test_faults: LDFLAGS_ALL += $(FAULT_WRAP)
# test_race: a commit of another handle at a chosen read of the reader's.
$(BUILD)/tests/test_race: LDFLAGS_ALL += -Wl,--wrap=pv_read_file_nofollow,--wrap=pv_read_file

# Each fuzz target also builds as a plain replay program over its committed
# corpus (tests/fuzz/corpus/<name>/), so every test run replays it, with
# pvdev's flags (fuzz_rowdiff's JSON check needs PVDEV_HAVE_JANSSON).
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES  := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBPV_A) $(PVGIT_A) $(PVDEV_LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ilibpv -Ipvdev -Ipvgit $(LIBPV_CFLAGS) $(GIT2_CFLAGS) $(PVDEV_CFLAGS) $(CFLAGS) -o $@ $< tests/fuzz/replay.c \
	    $(PVDEV_LIBOBJ) $(PVGIT_A) $(LIBPV_A) $(LDFLAGS_ALL) $(GIT2_LIBS) $(PVDEV_LIBS) $(LIBPV_LIBS)

test: all $(TEST_BIN) $(REPLAY_BIN) | $(BUILD)/.deps-test
	@PV_MEMCHECK=$(if $(filter 1,$(SANITIZE)),0,1) sh tests/run.sh $(BUILD)

# ---- fuzz (clang's libFuzzer, ASan + UBSan) --------------------------------
# make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="chunkline ..."]: each target runs
# for FUZZ_TIME seconds on a copy of its corpus (with tests/fuzz/<name>.dict
# when there is one), its log in build-fuzz/fuzz_<name>.log; a crash stops
# the run and lands in build-fuzz/ (an absolute -artifact_prefix:
# fuzz_merge runs the driver inside its own directory).
FUZZ_TIME    ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -DPV_VERSION_STRING='"fuzz"' -Ilibpv -Ipvdev -Ipvgit

.PHONY: fuzz
fuzz: $(BUILD)/config.mk
	@mkdir -p build-fuzz
	@for t in $(FUZZ_TARGETS); do \
	    echo "== fuzz $$t ($(FUZZ_TIME)s)"; \
	    clang $(FUZZ_CFLAGS) $(LIBPV_CFLAGS) $(GIT2_CFLAGS) $(PVDEV_CFLAGS) -o build-fuzz/fuzz_$$t \
	        tests/fuzz/fuzz_$$t.c $(LIBPV_SRC) $(PVGIT_SRC) $(filter-out pvdev/main.c,$(PVDEV_SRC)) \
	        $(GIT2_LIBS) $(PVDEV_LIBS) $(LIBPV_LIBS) || exit 1; \
	    mkdir -p build-fuzz/corpus-$$t && cp -n tests/fuzz/corpus/$$t/* build-fuzz/corpus-$$t/ 2>/dev/null; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=../tests/fuzz/$$t.dict; \
	    (cd build-fuzz && nice ./fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $$dict \
	        -artifact_prefix=$(CURDIR)/build-fuzz/ corpus-$$t >fuzz_$$t.log 2>&1; \
	        rc=$$?; tail -n 12 fuzz_$$t.log; exit $$rc) || exit 1; \
	done

# make fuzz-sql [FUZZ_SQL_QUERIES=200000] [FUZZ_SQL_SEED=N] [FUZZ_SQL_SEEDS=4]:
# the differential test against SQLite, longer, with several seeds.
FUZZ_SQL_QUERIES ?= 200000
FUZZ_SQL_SEEDS   ?= 4
FUZZ_SQL_SEED    ?= $(shell date +%s)
.PHONY: fuzz-sql
fuzz-sql: $(BUILD)/tests/test_sql_diff
	sh tests/fuzz-sql.sh $(BUILD) $(FUZZ_SQL_QUERIES) $(FUZZ_SQL_SEED) $(FUZZ_SQL_SEEDS)

# ---- stress ----------------------------------------------------------------
# make stress [PV_CRASH_ITERS=500]: the crash loop of tests/e2e/crash.sh with
# many more kills than `make test` runs, and test_faults' writer killed at
# every byte it writes (make test: each call's edges and every 7th byte).
PV_CRASH_ITERS ?= 500
.PHONY: stress
stress: all $(BUILD)/tests/test_faults | $(BUILD)/.deps-test
	PV_FAULTS_CRASH_STRIDE=1 nice $(BUILD)/tests/test_faults
	PV_CRASH_ITERS=$(PV_CRASH_ITERS) PV_BUILD=$(CURDIR)/$(BUILD) PV_TOP=$(CURDIR) \
	    PATH="$(CURDIR)/$(BUILD):$$PATH" nice sh tests/e2e/crash.sh

# ---- valgrind --------------------------------------------------------------
# make valgrind [VALGRIND_SCRIPTS="merge shell"]: the end-to-end scripts with
# every pvdev and pvbake run under valgrind memcheck (tests/valgrind.sh);
# reports in $(BUILD)/valgrind/. Too slow for `make test`.
VALGRIND_SCRIPTS ?=
.PHONY: valgrind
valgrind: all
	sh scripts/deps.sh valgrind
	nice sh tests/valgrind.sh $(BUILD) $(VALGRIND_SCRIPTS)

# ---- bench -----------------------------------------------------------------
# make bench [BENCH=quick]: PicoVolt against SQLite, LMDB, tinycdb and DuckDB
# on the same data in the same run; results in bench/results.md.
BENCH ?= full
.PHONY: bench
bench: all
	sh scripts/deps.sh bench
	sh bench/run.sh $(BUILD) $(BENCH)

# ---- demo ------------------------------------------------------------------
demo: all
	@sh scripts/demo.sh $(BUILD)

# ---- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include
	install -m 755 $(PVDEV) $(PVBAKE) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 libpv/pv.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIBPV_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBPV_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libpv.so.$(PV_VERSION) $(DESTDIR)$(PREFIX)/lib/libpv.so.$(PV_SOVER)
	ln -sf libpv.so.$(PV_VERSION) $(DESTDIR)$(PREFIX)/lib/libpv.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(PV_VERSION)|' libpv/libpv.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libpv.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pvdev $(DESTDIR)$(PREFIX)/bin/pvbake \
	    $(DESTDIR)$(PREFIX)/include/pv.h $(DESTDIR)$(PREFIX)/lib/libpv.a \
	    $(DESTDIR)$(PREFIX)/lib/libpv.so* $(DESTDIR)$(PREFIX)/lib/pkgconfig/libpv.pc

clean:
	rm -rf build build-san build-fuzz

-include $(LIBPV_OBJ:.o=.d) $(PVDEV_OBJ:.o=.d) $(PVBAKE_OBJ:.o=.d) $(PVGIT_OBJ:.o=.d)
