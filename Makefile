# hanipo - honeypot sensor.  GNU make + pkg-config.
#
#   make            build ./hanipo
#   make deps       install what is missing (Debian packages; nothing when all present)
#   make run        deps + build + run the sensor in the foreground with etc/hanipo.ini
#   make test       deps + build + unit tests + fuzz smoke + integration tests,
#                   then the unit and integration tests again under ASan+UBSan,
#                   then a soak smoke (the sanitized sensor under the soak's
#                   mixed load for SOAK_SMOKE_SECONDS, default 30)
#   make fuzz       run every libFuzzer harness for FUZZ_SECONDS each (default 600;
#                   FUZZ_JOBS, FUZZ_ONLY=regex), table in build/fuzz/report.tsv
#   make fuzz-minimize  minimise the seed corpora in fuzz/corpus/
#   make soak       ASan+UBSan sensor under a mixed load for SOAK_SECONDS (default 3600)
#   make bench      run every bench/*.sh
#   make corpus-report  replay tests/corpus/ (attacker sessions) and print how far they get
#
# Sources are discovered by wildcard: a new src/<dir>/<file>.c, tests/unit/test_*.c
# or fuzz/fuzz_*.c is built without touching this file.

# Build with every CPU unless the caller chose (make -jN / MAKEFLAGS).
NPROC    := $(shell nproc 2>/dev/null || echo 1)
ifeq ($(filter -j% --jobserver%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(NPROC)
endif

CC       ?= cc
CLANG    ?= clang
PKGS     := libevent_core libevent_extra libevent_openssl libevent_pthreads jansson inih sqlite3 libssl libcrypto libseccomp libssh libpcre2-8 zlib libcurl yara libmagic libpcap libmaxminddb libxxhash
# Hyperscan where Debian has it (amd64): optional, see src/core/litset.h.
ifneq ($(shell pkg-config --exists libhs 2>/dev/null && echo yes),)
PKGS     += libhs
HS_DEFS  := -DHP_HAVE_HYPERSCAN
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(HS_DEFS)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN     := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DHP_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
              -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE \
              -Isrc -Isrc/core $(PKG_CFLAGS)
LDFLAGS  ?=
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS     := $(PKG_LIBS) -lpthread -lm

BUILD    ?= build
LIB_SRC  := $(sort $(wildcard src/core/*.c src/proto/*.c src/intel/*.c src/store/*.c src/shell/*.c src/capture/*.c src/web/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)

# ASan+UBSan variant of the same tree (used by make test and make sanitize).
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all deps run test unit integration fuzz fuzz-smoke fuzz-minimize sanitize soak soak-smoke bench corpus-report print-pkgs clean distclean

all: hanipo

# a new file renamed over the old: a sensor running from ./hanipo keeps its
# binary, and a rebuild never fails with "Text file busy"
hanipo: $(BUILD)/hanipo
	@cp $< $@.new && mv -f $@.new $@

$(BUILD)/hanipo: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c $(wildcard src/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The personalities' base images are .incbin'ed by fsdata.c (assembler paths are
# relative to this directory).
$(BUILD)/src/shell/fsdata.o: $(wildcard data/shell/*.fs)
$(BUILD)/src/capture/yaradata.o build-fuzz/obj/src/capture/yaradata.o: $(wildcard data/yara/*.yar) data/trap/exploits.yar
$(BUILD)/src/intel/webclass.o build-fuzz/obj/src/intel/webclass.o: data/http/classify.rules
$(BUILD)/src/proto/http_rulesdata.o build-fuzz/obj/src/proto/http_rulesdata.o: data/http/responses.rules $(wildcard data/http/files/*)
$(BUILD)/src/intel/fpnames.o build-fuzz/obj/src/intel/fpnames.o: $(wildcard data/fingerprints/*.tsv)
$(BUILD)/src/intel/knowledge.o build-fuzz/obj/src/intel/knowledge.o: $(wildcard data/knowledge/*.tsv)
$(BUILD)/src/intel/geo.o build-fuzz/obj/src/intel/geo.o: data/geo/countries.tsv

# ---- dashboard (issue 8): the front end in web/ is .incbin'ed by dash_assets.c --------
$(BUILD)/src/proto/vnc.o build-fuzz/obj/src/proto/vnc.o: data/knowledge/vnc_passwords.txt
$(BUILD)/src/web/dash_assets.o build-fuzz/obj/src/web/dash_assets.o: $(wildcard web/*)

# ---- test-only binary with debug hooks (tests/hooks/debughook.c) ---------
# The release objects with tests/hooks/debughook.c in place of the empty
# src/core/debughook.c: one compile and a link.  `make hanipo` never builds it; the integration
# suite uses it (HANIPO_DEBUG_BIN) to prove that execve is refused.
DEBUG_BIN := $(BUILD)/debug-hooks/hanipo

$(BUILD)/debug-hooks/debughook.o: tests/hooks/debughook.c $(wildcard src/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(DEBUG_BIN): $(filter-out $(BUILD)/src/core/debughook.o,$(LIB_OBJ)) $(BUILD)/debug-hooks/debughook.o $(CLI_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/libhanipo.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libhanipo.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libhanipo.a $(LIBS) -lcmocka

# ---- dependencies -------------------------------------------------------
deps:
	@sh tools/deps.sh

# ---- running --------------------------------------------------------------
# The build is a second make: this one read pkg-config before deps installed anything.
run: deps
	@$(MAKE) --no-print-directory hanipo
	./hanipo run -c etc/hanipo.ini

# ---- tests ----------------------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory hanipo unit-bins
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory soak-smoke

unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

# Integration cases at the same time: one more than the CPUs, as most of a
# case's time is spent waiting (for a client's timeouts, nmap's probe waits,
# a daemon's flush) rather than computing: on 2 cores, 3 workers took the
# normal run from 323 to 220 s and the sanitized one from 397 to 253 s, every
# case passing.
IT_JOBS ?= $(shell echo $$(($(NPROC) + 1)))

integration: hanipo $(DEBUG_BIN)
	@HANIPO_BIN=$(CURDIR)/hanipo HANIPO_DEBUG_BIN=$(CURDIR)/$(DEBUG_BIN) /usr/bin/python3 tests/integration/run.py -j$(IT_JOBS)

# Unit and integration tests again, built with ASan+UBSan.
sanitize:
	@$(MAKE) --no-print-directory BUILD=build-san CC=$(CLANG) CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" build-san/hanipo build-san/debug-hooks/hanipo $(UNIT_SRC:tests/unit/%.c=build-san/tests/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh tests/run-unit.sh $(UNIT_SRC:tests/unit/%.c=build-san/tests/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		HANIPO_BIN=$(CURDIR)/build-san/hanipo HANIPO_DEBUG_BIN=$(CURDIR)/build-san/debug-hooks/hanipo HANIPO_SANITIZED=1 /usr/bin/python3 tests/integration/run.py -j$(IT_JOBS)

# ---- fuzzing --------------------------------------------------------------
# The library is compiled once with the sanitizers and libFuzzer's coverage
# hooks (fuzzer-no-link); each harness is one file linked against it.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DHP_VERSION='"fuzz"' -DHP_FUZZING -g -O1 \
              -fno-sanitize-recover=undefined -Isrc -Isrc/core $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)

build-fuzz/obj/%.o: %.c $(wildcard src/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/libhanipo-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build-fuzz/%: fuzz/%.c build-fuzz/libhanipo-fuzz.a $(wildcard src/*/*.h tests/unit/*.h fuzz/*.h)
	@mkdir -p build-fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libhanipo-fuzz.a $(LIBS)

# make fuzz [FUZZ_SECONDS=600] [FUZZ_JOBS=1] [FUZZ_ONLY=regex]: each harness (or those
# whose name matches FUZZ_ONLY) for FUZZ_SECONDS, FUZZ_JOBS at a time; new finds are
# merged into fuzz/corpus/<name>/ (only inputs with new coverage), and a table of
# seconds, executions, exec/s, corpus size and crashes is printed and kept in
# build/fuzz/report.tsv.  make fuzz-minimize rebuilds each seed corpus with -merge=1.
# FUZZ_TIMEOUT=60 (environment) for runs at low priority beside other work (fuzz/run.sh).
# The smoke (make test) runs every harness, one per CPU, quietly, and edits nothing.
# libFuzzer runs a harness's whole seed corpus before it looks at the clock, so
# SMOKE_SECONDS is what is fuzzed beyond the seeds: two seconds keeps the 89
# harnesses' smoke near two and a half minutes of make test's twenty.
FUZZ_SECONDS ?= 600
SMOKE_SECONDS ?= 2
FUZZ_JOBS ?= 1
FUZZ_ONLY ?=
FUZZ_SEL := $(if $(FUZZ_ONLY),$(shell printf '%s\n' $(FUZZ_SRC:fuzz/fuzz_%.c=%) | grep -E -- '$(FUZZ_ONLY)' | sed 's|^|build-fuzz/fuzz_|'),$(FUZZ_BIN))
fuzz-smoke: $(FUZZ_BIN)
	@FUZZ_JOBS=$(NPROC) FUZZ_QUIET=1 FUZZ_REPORT=build/fuzz/smoke.tsv sh fuzz/run.sh $(SMOKE_SECONDS) $(FUZZ_BIN)

fuzz: $(FUZZ_SEL)
	@FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_ONLY='$(FUZZ_ONLY)' FUZZ_MERGE=1 sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SEL)

fuzz-minimize: $(FUZZ_SEL)
	@FUZZ_ONLY='$(FUZZ_ONLY)' sh fuzz/run.sh -minimize $(FUZZ_SEL)

# ---- soak (issue 13) ---------------------------------------------------------
# The ASan+UBSan sensor under a mixed load of every protocol for SOAK_SECONDS
# (SOAK_RATE sessions per second): leaks, RSS over time (build/soak/rss.csv),
# session.connect events against the connections made; summary in
# build/soak/summary.txt.  make test runs soak-smoke: the same for
# SOAK_SMOKE_SECONDS (every protocol's sessions, no leak, no sanitizer report,
# every connection recorded), as fuzz-smoke is make fuzz's.
SOAK_SECONDS ?= 3600
SOAK_RATE ?= 20
SOAK_SMOKE_SECONDS ?= 30
soak:
	@$(MAKE) --no-print-directory BUILD=build-san CC=$(CLANG) CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" build-san/hanipo
	@SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) /usr/bin/python3 tools/soak.py --bin build-san/hanipo

soak-smoke:
	@$(MAKE) --no-print-directory BUILD=build-san CC=$(CLANG) CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" build-san/hanipo
	@SOAK_RATE=$(SOAK_RATE) /usr/bin/python3 tools/soak.py --bin build-san/hanipo \
		--seconds $(SOAK_SMOKE_SECONDS) --out build/soak-smoke

# ---- benchmarks -----------------------------------------------------------
# Every bench in turn (each log kept in build/bench/), then one table of the figures.
# report.sh makes the SQLite data set that fleet.sh compares with, so it runs first.
BENCH_FIRST := report
BENCH_NAMES := $(BENCH_FIRST) $(filter-out $(BENCH_FIRST) lib,$(sort $(basename $(notdir $(wildcard bench/*.sh)))))
bench: hanipo
	@mkdir -p build/bench; for n in $(BENCH_NAMES); do \
		echo "== bench/$$n.sh"; sh bench/$$n.sh 2>&1 | tee build/bench/$$n.log; done; \
		echo; python3 bench/table.py $(BENCH_NAMES:%=build/bench/%.log)

# The libraries every program linking build/libhanipo.a needs (bench/lib.sh bl_build_lib).
print-pkgs:
	@echo $(PKGS)

# ---- the shell's attacker-session corpus (issue 4's figures) ---------------
corpus-report: hanipo
	@HANIPO_BIN=$(CURDIR)/hanipo /usr/bin/python3 tools/corpus-report.py

clean:
	rm -rf build build-san build-fuzz hanipo

distclean: clean
	rm -rf var
