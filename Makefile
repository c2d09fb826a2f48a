# SPDX-License-Identifier: MIT
# perfkit: one non-recursive GNU Makefile for the library, the programs,
# the unit and command-line tests, the benchmarks and the installation.
#
#   make                    build into build/
#   make check              unit tests (cmocka) + command-line tests (bats) + lint
#   make check SANITIZE=1   the same built with ASan+UBSan into build/san/
#   make check-valgrind     the long-running programs' tests under valgrind
#   make fuzz               every libFuzzer target for FUZZ_SECONDS each
#   make bench              every program beside its anchor, ratios printed
#   make install PREFIX=/usr DESTDIR=/tmp/pkg

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share

CC       ?= cc
AR       ?= ar
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes \
            -Wstrict-prototypes -Wshadow -Wno-missing-field-initializers
PK_CFLAGS = -std=c11 $(WARN) -D_GNU_SOURCE -DPK_VERSION='"$(VERSION)"' -Ilib
LDLIBS    = -ljansson -lyaml -lm -lpthread

# SANITIZE=1 builds everything with AddressSanitizer and UBSan in its own
# tree, so that switching back and forth never mixes objects.
ifeq ($(SANITIZE),1)
O        ?= build/san
SANFLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
else
O        ?= build
SANFLAGS  =
endif

ifeq ($(V),1)
Q =
else
Q = @
endif

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
.PHONY: all check unit bats lint bench install uninstall clean deps fuzz fuzz-replay \
        check-valgrind

LIBSRC  := $(sort $(wildcard lib/*.c))
LIBOBJ  := $(LIBSRC:%.c=$(O)/%.o)
LIB     := $(O)/lib/libpk.a

# A program is one file, cmd/PROG.c, or a folder, cmd/PROG/*.c (main.c
# holds main(); the other files are its units, which fuzz targets link).
PROGS   := $(sort $(basename $(notdir $(wildcard cmd/*.c))) \
             $(notdir $(patsubst %/,%,$(wildcard cmd/*/))))
BINS    := $(PROGS:%=$(O)/bin/%)
CMDSRC  := $(wildcard cmd/*.c cmd/*/*.c)
# The objects of program $(1), and the same without its main.o.
prog_objs = $(if $(1),$(patsubst %.c,$(O)/%.o,$(wildcard cmd/$(1).c cmd/$(1)/*.c)))
prog_units = $(filter-out $(O)/cmd/$(1)/main.o,$(call prog_objs,$(1)))

UNITSRC := $(sort $(wildcard tests/unit/test_*.c))
UNITS   := $(UNITSRC:tests/unit/%.c=$(O)/tests/%)
# Functions the unit tests may replace: -Wl,--wrap=fn, each __wrap_fn
# falls through to __real_fn unless its pk_mock_fn flag is set.
WRAP    := read poll write fsync rename malloc

# Fuzz targets (tests/fuzz/fuzz_*.c) also build as plain replay programs.
FUZZSRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZREPLAY := $(FUZZSRC:tests/fuzz/%.c=$(O)/tests/%)

MANS    := $(wildcard man/*.1)

# The objects are named here so that make never takes them for intermediate
# files (a file moved into a folder keeps its old time, yet must relink).
CMDOBJ  := $(CMDSRC:%.c=$(O)/%.o)
all: $(CMDOBJ) $(BINS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(PK_CFLAGS) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIBOBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Per-program libraries, as target-specific variables.
$(O)/bin/perf-alert: LDLIBS += -lcurl -lmicrohttpd
$(O)/bin/perf-bench: LDLIBS += -lcurl -lmicrohttpd
$(O)/bin/perf-profile: LDLIBS += -lcurl -lmicrohttpd
$(O)/bin/perf-qualityctl: LDLIBS += -lcurl -lmicrohttpd
$(O)/bin/rt-loop: LDLIBS += -ldl -lcurl -lmicrohttpd

.SECONDEXPANSION:
$(O)/bin/%: $$(call prog_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(O)/tests/mock.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) $(WRAP:%=-Wl,--wrap=%) \
	    -o $@ $< $(O)/tests/mock.o $(LIB) -lcmocka -lcurl -lmicrohttpd $(LDLIBS)

-include $(LIBOBJ:.o=.d) $(CMDSRC:%.c=$(O)/%.d) $(UNITSRC:%.c=$(O)/%.d)

# Test helpers that the bats tests build (plugins, fixtures).
TESTHELPERS := $(patsubst tests/helpers/%.c,$(O)/tests/helpers/%,$(wildcard tests/helpers/*.c))
$(O)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(PK_CFLAGS) $(CFLAGS) $(SANFLAGS) -o $@ $< -ldl -lm -lpthread

EXAMPLE_PLUGINS := $(patsubst examples/%.c,$(O)/examples/%.so,$(wildcard examples/*.c))
$(O)/examples/%.so: examples/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c11 $(WARN) -D_GNU_SOURCE $(CFLAGS) -fPIC -shared -o $@ $< -lm

check: all unit bats lint

unit: $(UNITS) $(FUZZREPLAY)
	$(Q)tests/run-unit $(UNITS) $(FUZZREPLAY)

bats: all $(TESTHELPERS) $(EXAMPLE_PLUGINS)
	$(Q)PK_BUILD=$(abspath $(O)) tests/run-bats

# The long-running programs' bats tests with every binary under valgrind
# (memcheck, definite leaks are errors); the normal build, not SANITIZE=1.
check-valgrind: all $(TESTHELPERS) $(EXAMPLE_PLUGINS)
	$(Q)PK_BUILD=$(abspath $(O)) tests/run-valgrind

# Man pages must be clean mdoc; banned functions must not come back.
BANNED = \<(atoi|atol|atoll|sprintf|vsprintf|strcpy|strcat|strtok|gets)[[:space:]]*\(
lint:
	@echo "  LINT    man/*.1"
	$(Q)$(if $(MANS),mandoc -Tlint -Werror $(MANS),true)
	@echo "  LINT    banned functions"
	$(Q)! grep -EnH '$(BANNED)' $(wildcard lib/*.[ch] cmd/*.[ch] cmd/*/*.[ch])

bench: all
	$(Q)PK_BUILD=$(abspath $(O)) bench/run-all

fuzz:
	$(Q)tests/fuzz/run

deps:
	$(Q)scripts/deps

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions \
	    $(DESTDIR)$(DATADIR)/zsh/vendor-completions \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	for p in $(PROGS); do \
	    install -m 644 completions/perfkit.bash \
	        $(DESTDIR)$(DATADIR)/bash-completion/completions/$$p; \
	    install -m 644 completions/perfkit.fish \
	        $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$p.fish; \
	done
	install -m 644 completions/_perfkit $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_perfkit

uninstall:
	for p in $(PROGS); do \
	    rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 \
	        $(DESTDIR)$(DATADIR)/bash-completion/completions/$$p \
	        $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$p.fish; \
	done
	rm -f $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_perfkit

clean:
	rm -rf build

$(O)/tests/mock.o: tests/unit/mock.c tests/unit/mock.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(PK_CFLAGS) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

# Fuzz targets replayed over their seed corpus and every crash ever found
# (tests/fuzz/regress/TARGET), without libFuzzer, as part of `make check`.
# A target that tests a program's units names the program in a line
# "FUZZ_PROG: PROG" and is linked with them (all of cmd/PROG/ but main.o).
fuzz_prog = $(shell sed -n 's/^.*FUZZ_PROG: *\([a-z-]*\).*$$/\1/p' tests/fuzz/fuzz_$(1).c)
$(O)/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) \
    $(wildcard cmd/*.c) $$(call prog_units,$$(call fuzz_prog,$$*)) $(LIB)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	$(Q)$(CC) $(PK_CFLAGS) -Ilib -Wno-missing-prototypes $(CFLAGS) $(SANFLAGS) \
	    $(if $(call fuzz_prog,$*),-Icmd/$(call fuzz_prog,$*)) \
	    -o $@ tests/fuzz/replay.c $< $(call prog_units,$(call fuzz_prog,$*)) \
	    $(LIB) -lcurl -lmicrohttpd -ldl $(LDLIBS)

fuzz-replay: $(FUZZREPLAY)
	$(Q)tests/run-unit $(FUZZREPLAY)
