# DyberVPN build. `make` builds the library, the CLI and the test programs;
# `make test` runs everything (plain, then under ASan+UBSan, then under
# ThreadSanitizer, then netns).
# Quiet unless V=1. Sources are found by wildcard: add a file, it builds.

BUILD   ?= build
CC      ?= cc
V       ?= 0
Q        = $(if $(filter 1,$(V)),,@)
# Progress lines ("  CC  file") unless V=1 or make -s.
SILENT   = $(findstring s,$(firstword -$(MAKEFLAGS)))
SAY      = $(if $(Q),$(if $(SILENT),true,echo),true)
SAN     ?= 0
TSAN    ?= 0

WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wno-unused-parameter
HARDEN   = -fstack-protector-strong -fstack-clash-protection -fcf-protection \
           -fPIE -D_FORTIFY_SOURCE=2
OPT     ?= -O2 -g
DV_CFLAGS  = $(OPT) -std=c11 -D_GNU_SOURCE -Isrc -Itests $(WARN) $(CFLAGS)
DV_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(LDFLAGS)
LDLIBS   = -lsodium -lb2 -lcrypto -lmnl -lseccomp -lcap -lpthread -lm

ifeq ($(SAN),1)
OPT         = -O1 -g
DV_CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -DDV_SANITIZE=1
DV_LDFLAGS += -fsanitize=address,undefined
else ifeq ($(TSAN),1)
# ThreadSanitizer (`make BUILD=build-tsan TSAN=1`): data races between the
# event loop, the crypto workers and helper threads. DV_SANITIZE as for
# ASan: key memory from the heap, no seccomp filter (the runtime makes
# system calls of its own).
OPT         = -O1 -g
DV_CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer -DDV_SANITIZE=1
DV_LDFLAGS += -fsanitize=thread
else
DV_CFLAGS  += $(HARDEN)
endif

LIB_SRCS   := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRCS   := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
TV_SRCS    := $(sort $(wildcard tests/vectors/*.c))
CT_SRCS    := $(sort $(wildcard tests/ct/ct_*.c))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Helpers of the netns tests and benchmarks (the flood generator).
TOOL_SRCS  := $(sort $(wildcard tests/tools/*.c))

LIB        := $(BUILD)/libdybervpn.a
CLI        := $(BUILD)/dybervpn
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TV_BIN     := $(BUILD)/test-vectors
CT_BINS    := $(patsubst tests/ct/%.c,$(BUILD)/ct/%,$(CT_SRCS))
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tools/dv-%,$(TOOL_SRCS))

LIB_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
CLI_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
TV_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(TV_SRCS))


all: $(LIB) $(CLI) $(UNIT_BINS) $(TV_BIN) $(TOOL_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(SAY) "  CC      $<"
	$(Q)$(CC) $(DV_CFLAGS) $(if $(findstring _avx2,$<),-mavx2 -mbmi2 -mpopcnt) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@$(SAY) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJS) $(LIB)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(DV_CFLAGS) $(DV_LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(DV_CFLAGS) $(DV_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tools/dv-%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(DV_CFLAGS) $(DV_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(TV_BIN): $(TV_OBJS) $(LIB)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(DV_CFLAGS) $(DV_LDFLAGS) -o $@ $(TV_OBJS) $(LIB) $(LDLIBS) -lz

# Constant-time checks: secrets are marked undefined for valgrind memcheck,
# which then reports every branch or table index that depends on them.
$(BUILD)/ct/%: tests/ct/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(DV_CFLAGS) -DDV_CT_CHECK=1 $(DV_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	$(Q)scripts/deps.sh build

# The whole suite; installs missing Debian packages first (needs root for that).
test:
	$(Q)scripts/deps.sh all
	$(Q)scripts/run-tests.sh

test-unit: all
	$(Q)scripts/run-tests.sh unit vectors

ct: $(CT_BINS)
	$(Q)for t in $(CT_BINS); do \
		echo "  CT      $$t"; \
		valgrind -q --error-exitcode=1 --track-origins=yes \
			--suppressions=tests/ct/valgrind.supp $$t || exit 1; \
	done; echo "ct: no secret-dependent branch or index reported"

bench: $(CLI)
	$(Q)$(CLI) benchmark

# libFuzzer harnesses (clang): `make fuzz-build` builds them into
# build-fuzz/fuzz/, `make fuzz` also runs each FUZZ_TIME seconds. UBSan
# must not recover, or undefined behaviour is only logged and never
# reported as a crash; crash inputs go to build-fuzz/, not the source tree.
FUZZ_TIME ?= 30
# DV_SANITIZE: key memory from the heap, where LeakSanitizer sees the
# pointers it holds (a locked mapping is not scanned: false leaks).
FUZZ_SAN   = -fno-sanitize-recover=all -fno-omit-frame-pointer -DDV_SANITIZE=1
fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g" \
		CFLAGS="-fsanitize=fuzzer-no-link,address,undefined $(FUZZ_SAN)" \
		HARDEN= build-fuzz/libdybervpn.a
	$(Q)mkdir -p build-fuzz/fuzz
	$(Q)for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		$(SAY) "  LD      build-fuzz/fuzz/$$n"; \
		clang -O1 -g -std=c11 -D_GNU_SOURCE -Isrc -Itests $(WARN) \
			-fsanitize=fuzzer,address,undefined $(FUZZ_SAN) \
			$$f build-fuzz/libdybervpn.a \
			$(LDLIBS) -o build-fuzz/fuzz/$$n || exit 1; \
	done

fuzz: fuzz-build
	$(Q)for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		mkdir -p build-fuzz/corpus/$$n; \
		echo "  FUZZ    $$n ($(FUZZ_TIME) s)"; \
		seeds=; [ -d tests/fuzz/corpus/$$n ] && seeds=tests/fuzz/corpus/$$n; \
		build-fuzz/fuzz/$$n -max_total_time=$(FUZZ_TIME) \
			-artifact_prefix=build-fuzz/$$n- \
			build-fuzz/corpus/$$n $$seeds 2>build-fuzz/$$n.log \
			|| { tail -30 build-fuzz/$$n.log; exit 1; }; \
		grep -E '^Done [0-9]+ runs' build-fuzz/$$n.log | tail -1; \
	done

# Installation, in the layout of wireguard-tools: `make install` puts the
# binary, the man pages, the systemd unit and the bash completion under
# PREFIX (default /usr/local; packagers pass PREFIX=/usr) and creates
# SYSCONFDIR/dybervpn (0700) for the configs. DESTDIR stages it all
# elsewhere (a package build, the test). Installing to the real root as
# root also creates the `dybervpn` system user the daemon drops to.
# `make uninstall` removes what install put, but never a config: the
# config directory goes only when empty, and the user stays (files may
# still belong to it; `userdel dybervpn` removes it).
PREFIX         ?= /usr/local
DESTDIR        ?=
SYSCONFDIR     ?= /etc
BINDIR         ?= $(PREFIX)/bin
MANDIR         ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
DV_USER        ?= dybervpn

INSTALLED = $(BINDIR)/dybervpn $(MANDIR)/man8/dybervpn.8 \
            $(MANDIR)/man5/dybervpn.toml.5 $(SYSTEMDUNITDIR)/dybervpn@.service \
            $(BASHCOMPDIR)/dybervpn

install: $(CLI)
	$(Q)install -d -m 0755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man8" \
		"$(DESTDIR)$(MANDIR)/man5" "$(DESTDIR)$(SYSTEMDUNITDIR)" "$(DESTDIR)$(BASHCOMPDIR)"
	$(Q)install -m 0755 $(CLI) "$(DESTDIR)$(BINDIR)/dybervpn"
	$(Q)install -m 0644 man/dybervpn.8 "$(DESTDIR)$(MANDIR)/man8/dybervpn.8"
	$(Q)install -m 0644 man/dybervpn.toml.5 "$(DESTDIR)$(MANDIR)/man5/dybervpn.toml.5"
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		systemd/dybervpn@.service.in >"$(DESTDIR)$(SYSTEMDUNITDIR)/dybervpn@.service" && \
		chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/dybervpn@.service"
	$(Q)install -m 0644 completion/dybervpn.bash "$(DESTDIR)$(BASHCOMPDIR)/dybervpn"
	$(Q)install -d -m 0700 "$(DESTDIR)$(SYSCONFDIR)/dybervpn"
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd $(DV_USER) >/dev/null; then \
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --comment "DyberVPN daemon" $(DV_USER) && \
		echo "  USER    $(DV_USER) (system user the daemon drops to)"; \
	fi
	$(Q)[ -n "$(DESTDIR)" ] || ! command -v systemctl >/dev/null || \
		[ ! -d /run/systemd/system ] || systemctl daemon-reload || true
	@$(SAY) "  INSTALL $(DESTDIR)$(PREFIX)"

uninstall:
	$(Q)for f in $(INSTALLED); do rm -f "$(DESTDIR)$$f"; done
	$(Q)rmdir "$(DESTDIR)$(SYSCONFDIR)/dybervpn" 2>/dev/null || \
		[ ! -d "$(DESTDIR)$(SYSCONFDIR)/dybervpn" ] || \
		echo "  KEEP    $(DESTDIR)$(SYSCONFDIR)/dybervpn (configs)"
	$(Q)[ -n "$(DESTDIR)" ] || ! command -v systemctl >/dev/null || \
		[ ! -d /run/systemd/system ] || systemctl daemon-reload || true
	@$(SAY) "  UNINST  $(DESTDIR)$(PREFIX)"

clean:
	rm -rf build build-san build-tsan build-fuzz

.PHONY: all deps test test-unit ct bench fuzz fuzz-build clean install uninstall
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
