# m2jortt build. `make` builds bin/; `make check` installs deps, builds, and runs
# the unit and integration suites twice: plain, then under ASan+UBSan, and
# checks that the release binaries are hardened. `make fuzz` and `make lint`:
# README "Fuzzing and static checks"; `make browser-check` (the dashboard in
# headless Chromium): README "Dashboard".
#
# Sources are found by wildcard so adding a file needs no Makefile edit:
#   common/<room>/*.c     -> libm2jcommon.a (everything shared; one folder per
#                            concern: base config queue ingest mapping jortt magento)
#   receiver/*.c worker/*.c cli/*.c -> one binary each (main.c holds main();
#                            the other files go into a per-binary library that
#                            unit tests can link)
#   tests/jortt_double/*.c -> the Jortt test double
#   tests/magento_double/*.c -> the Magento REST test double
#   tests/unit/test_*.c   -> one Check executable per file
#   tests/integration/test_*.c + harness.c -> one Check executable per file
#   tests/fuzz/fuzz_*.c    -> one libFuzzer harness per file (clang, build-fuzz/)

CC      ?= cc
SAN     ?= 0
PKGS    := libevent libcurl json-c hiredis libcrypto
# Every include of a project header names its room or program folder, its own
# included: "queue/queue.h" (from -Icommon), "worker/processor.h" (from -I.).
CPPFLAGS := -Icommon -I. -D_GNU_SOURCE
CFLAGS  := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers -g \
           $(shell pkg-config --cflags $(PKGS) check 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -levent_pthreads -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# BUILD and BINDIR may be overridden (parallel builds in separate folders).
ifeq ($(SAN),1)
BUILD   ?= build-asan
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BINDIR  ?= $(BUILD)/bin
else
# The release build is hardened: bounds-checked libc calls where the size is
# known (FORTIFY needs optimisation), stack canaries, a position-independent
# executable (ASLR for the code too) and full RELRO (GOT read-only after
# start-up). scripts/check-hardening.sh verifies the binaries in make check.
# The sanitizer build leaves these out: ASan replaces the same checks and
# FORTIFY's wrappers hide calls from its interceptors.
BUILD   ?= build
CFLAGS  += -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDFLAGS += -pie -Wl,-z,relro,-z,now
BINDIR  ?= bin
endif

COMMON_SRC   := $(sort $(wildcard common/*/*.c))
RECEIVER_SRC := $(sort $(filter-out receiver/main.c,$(wildcard receiver/*.c)))
WORKER_SRC   := $(sort $(filter-out worker/main.c,$(wildcard worker/*.c)))
CLI_SRC      := $(sort $(filter-out cli/main.c,$(wildcard cli/*.c)))
DOUBLE_SRC   := $(sort $(wildcard tests/jortt_double/*.c))
MDOUBLE_SRC  := $(sort $(wildcard tests/magento_double/*.c))
UNIT_SRC     := $(sort $(wildcard tests/unit/test_*.c))
INTEG_SRC    := $(sort $(wildcard tests/integration/test_*.c))
HARNESS_SRC  := $(sort $(filter-out $(INTEG_SRC),$(wildcard tests/integration/*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_COMMON   := $(BUILD)/libm2jcommon.a
LIB_RECEIVER := $(BUILD)/libm2jreceiver.a
LIB_WORKER   := $(BUILD)/libm2jworker.a
LIB_CLI      := $(BUILD)/libm2jcli.a
ALL_LIBS     := $(LIB_RECEIVER) $(LIB_WORKER) $(LIB_CLI) $(LIB_COMMON)

BINS := $(BINDIR)/m2jortt-receiver $(BINDIR)/m2jortt-worker $(BINDIR)/m2jortt $(BINDIR)/jortt-double \
        $(BINDIR)/magento-double
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(INTEG_SRC))

# Objects built through the test pattern rules are not throwaway intermediates.
.SECONDARY:

.PHONY: all deps run check check-plain check-asan asan unit integration test-bins clean bench bench-bins install \
        test-install hardening fuzz-deps fuzz-bins fuzz fuzz-short lint-deps lint browser-deps browser-check browser-run
all: $(BINS)

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

define mklib
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^ $$(if $$^,,)
endef
$(eval $(call mklib,$(LIB_COMMON),$(COMMON_SRC)))
$(eval $(call mklib,$(LIB_RECEIVER),$(RECEIVER_SRC) common/.keep.c))
$(eval $(call mklib,$(LIB_WORKER),$(WORKER_SRC) common/.keep.c))
$(eval $(call mklib,$(LIB_CLI),$(CLI_SRC) common/.keep.c))

$(BINDIR)/m2jortt-receiver: $(call obj,receiver/main.c) $(LIB_RECEIVER) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BINDIR)/m2jortt-worker: $(call obj,worker/main.c) $(LIB_WORKER) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BINDIR)/m2jortt: $(call obj,cli/main.c) $(LIB_CLI) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BINDIR)/jortt-double: $(call obj,$(DOUBLE_SRC)) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BINDIR)/magento-double: $(call obj,$(MDOUBLE_SRC)) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: $(call obj,tests/unit/test_%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ALL_LIBS) $(CHECK_LIBS) $(LDLIBS)
$(BUILD)/tests/test_%: $(call obj,tests/integration/test_%.c) $(call obj,$(HARNESS_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ALL_LIBS) $(CHECK_LIBS) $(LDLIBS)

test-bins: $(BINS) $(UNIT_BINS) $(INTEG_BINS)

# Runs every test executable; M2JORTT_BIN_DIR tells integration tests which
# binaries to start. CK_FORK=yes keeps one crashing test from hiding the rest.
unit: $(UNIT_BINS)
	@scripts/run-tests.sh unit $(UNIT_BINS)
integration: $(BINS) $(INTEG_BINS)
	@M2JORTT_BIN_DIR=$(abspath $(BINDIR)) scripts/run-tests.sh integration $(INTEG_BINS)

check-plain: test-bins
	@M2JORTT_BIN_DIR=$(abspath $(BINDIR)) scripts/run-tests.sh all $(UNIT_BINS) $(INTEG_BINS)
	@BINDIR=$(BINDIR) scripts/test-install.sh
check-asan:
	@$(MAKE) --no-print-directory SAN=1 BUILD=build-asan BINDIR=build-asan/bin check-plain
asan: deps
	@$(MAKE) --no-print-directory SAN=1 BUILD=build-asan BINDIR=build-asan/bin check-plain

# deps runs first and the build is a fresh make: CFLAGS/LDLIBS come from
# pkg-config when a Makefile is read, so the make that installed the libraries
# cannot build with them (a fresh machine's first `make run` failed to link).
check: deps
	@$(MAKE) --no-print-directory check-plain
	@$(MAKE) --no-print-directory hardening
	@$(MAKE) --no-print-directory check-asan

hardening: $(BINS)
	@scripts/check-hardening.sh $(BINS)

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

bench: deps
	@$(MAKE) --no-print-directory all bench-bins
	@M2JORTT_BIN_DIR=$(abspath $(BINDIR)) BENCH_BUILD=$(abspath $(BUILD)) bench/run.sh

# Bench tools linked with the project's library (bench/ingest_cost.c: the
# receiver's per-request JSON work, for callgrind; see bench/parse_cost.sh).
BENCH_BINS := $(BUILD)/bench/ingest_cost
bench-bins: $(BENCH_BINS)
$(BUILD)/bench/%: $(call obj,bench/%.c) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# make install [PREFIX=/usr/local] [DESTDIR=staging] [SYSTEMDUNITDIR=...]:
# the three programs, their man pages, the systemd units (their paths
# rewritten for PREFIX) and the example configuration. Nothing in /etc:
# the configuration is the operator's (see m2jortt.json(5)).
PREFIX         ?= /usr/local
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/m2jortt
INSTALL        ?= install
install: $(BINDIR)/m2jortt-receiver $(BINDIR)/m2jortt-worker $(BINDIR)/m2jortt
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 $(BINDIR)/m2jortt-receiver $(BINDIR)/m2jortt-worker $(BINDIR)/m2jortt $(DESTDIR)$(PREFIX)/bin/
	$(INSTALL) -m 0644 man/m2jortt.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 man/m2jortt.json.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 man/m2jortt-receiver.8 man/m2jortt-worker.8 $(DESTDIR)$(MANDIR)/man8/
	for u in deploy/systemd/*.service; do \
	    sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' $$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} || exit 1; \
	done
	$(INSTALL) -m 0644 deploy/config.example.json $(DESTDIR)$(DOCDIR)/m2jortt.json.example

test-install:
	@BINDIR=$(BINDIR) scripts/test-install.sh

# libFuzzer harnesses. The common sources are compiled again by clang into
# build-fuzz/ with coverage instrumentation and ASan+UBSan (gcc objects carry
# no coverage, so the fuzzer would be blind in them). clang is installed only
# here (`make fuzz-deps`), so `make run` never pulls a compiler it does not use.
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# -Wno-bitwise-instead-of-logical: constant-time comparisons use `&` on
# purpose (both sides always run); clang flags that, gcc does not.
FUZZ_CFLAGS  := -std=c11 -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-bitwise-instead-of-logical \
                -g -O1 $(FUZZ_SAN) \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
FUZZ_LIB     := $(FUZZ_BUILD)/libm2jcommon.a

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(COMMON_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-deps:
	@FUZZ=1 scripts/deps.sh
fuzz-bins: $(FUZZ_BINS)
# Each harness runs FUZZ_SECONDS, one after another (one core each); any crash,
# leak, hang or sanitizer report fails the target. fuzz-short is CI's round.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-bins
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)
fuzz-short: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-bins
	@scripts/fuzz.sh 10 $(FUZZ_BINS)

# cppcheck and clang-tidy over the production sources (scripts/lint.sh; every
# suppression and disabled check has its reason in scripts/lint/).
lint-deps:
	@LINT=1 scripts/deps.sh
lint: lint-deps
	@scripts/lint.sh

# The dashboard in a real browser (tests/browser/): headless Chromium driven
# through chromedriver over the W3C WebDriver protocol. Debian's chromium and
# chromium-driver are installed here only (BROWSER=1 scripts/deps.sh), so
# `make run` and `make check` never pull a browser. Screenshots of every page
# at 390 and 1280 px go to $(BUILD)/screenshots/ for a reviewer.
BROWSER_SRC := $(sort $(wildcard tests/browser/*.c))
BROWSER_BIN := $(BUILD)/tests/browser_dashboard
$(BROWSER_BIN): $(call obj,$(BROWSER_SRC)) $(call obj,$(HARNESS_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ALL_LIBS) $(CHECK_LIBS) $(LDLIBS)

browser-deps:
	@BROWSER=1 scripts/deps.sh
# deps first, then a fresh make (see check: a make that installed libraries
# cannot build with them).
browser-check: browser-deps
	@$(MAKE) --no-print-directory browser-run
browser-run: $(BINS) $(BROWSER_BIN)
	@mkdir -p $(BUILD)/screenshots
	@M2JORTT_BIN_DIR=$(abspath $(BINDIR)) M2JORTT_SCREENSHOTS=$(abspath $(BUILD)/screenshots) \
	    scripts/run-tests.sh browser $(BROWSER_BIN)
	@echo "browser: screenshots in $(BUILD)/screenshots/"

clean:
	rm -rf build build-asan bin build-fuzz

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
