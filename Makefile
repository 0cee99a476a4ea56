# coworker: a terminal coding agent whose model-driven worker never touches
# the machine directly. See README.md.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS_SUPERVISOR := libcjson libevent libseccomp
# Tests check our sha256 against libcrypto's; the programs do not link it.
PKGS_TEST := cmocka libcrypto
PKGS_WORKER := libcjson libcurl libseccomp

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	  -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -fno-strict-aliasing \
	  -fstack-protector-strong -MMD -MP -I.
LDFLAGS ?=

# The confined worker cannot run sanitizers under its normal seccomp and
# rlimit profile, so sanitizer builds get a wider one that exists only there.
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -DCOWORKER_SANITIZER_PROFILE
LDFLAGS += -fsanitize=address,undefined
BUILD := build-asan
endif

pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkg_libs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

PROTO_SRC := $(wildcard proto/*.c)
LIB_SRC := $(wildcard lib/*.c)
POLICY_SRC := $(wildcard policy/*.c)
SUPERVISOR_SRC := $(filter-out supervisor/main.c supervisor/launcher.c,\
	$(wildcard supervisor/*.c))
WORKER_SRC := $(filter-out worker/main.c,$(wildcard worker/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

SUPERVISOR_LIB := $(BUILD)/libcoworker-supervisor.a
WORKER_LIB := $(BUILD)/libcoworker-worker.a
PROGRAMS := $(BUILD)/coworker $(BUILD)/coworker-supervisor \
	$(BUILD)/coworker-worker $(BUILD)/replay-server
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRC))

.PHONY: all deps check demo install clean lint fuzz fuzz-smoke FORCE

all: $(PROGRAMS)

# Installs the Debian packages the build and tests need, when missing.
deps:
	@scripts/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pkg_cflags,$(PKGS_SUPERVISOR) $(PKGS_WORKER)) -c -o $@ $<

$(SUPERVISOR_LIB): $(call obj,$(SUPERVISOR_SRC) $(POLICY_SRC) $(PROTO_SRC) $(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(WORKER_LIB): $(call obj,$(WORKER_SRC) $(PROTO_SRC) $(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Every `coworker sandbox` call and every session start pays for loading
# the supervisor's libraries, so libevent is linked in statically when
# Debian ships its archive (the binary stays position independent); cJSON
# has none. libcrypto is not used at all: even linked statically it cost
# 0.35 ms per start, for one hash (lib/sha256.c). STATIC_LIBS=0 links
# everything dynamically.
STATIC_LIBS ?= 1
static_archive = $(filter /%,$(shell $(CC) -print-file-name=lib$(1).a))
# The command sandbox's seccomp filter is built at compile time, so the
# supervisor binary needs no libseccomp; its tests still link it.
have_static := $(call static_archive,event_core)
SUPERVISOR_LINK := $(call pkg_libs,libcjson libevent)
ifeq ($(STATIC_LIBS),1)
ifneq ($(have_static),)
SUPERVISOR_LINK := -Wl,-Bstatic -levent_core -Wl,-Bdynamic \
	$(call pkg_libs,libcjson)
endif
endif

$(BUILD)/coworker-supervisor: $(call obj,supervisor/main.c) $(SUPERVISOR_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(SUPERVISOR_LINK)

# `coworker` itself runs "coworker sandbox" and executes coworker-supervisor
# for every other command (supervisor/launcher.c). It is linked statically
# with musl when musl-gcc is installed, because glibc's start-up costs
# about 0.4 ms more on every command here (docs/benchmarks.md). musl has no
# kernel headers of its own, so the launcher gets Linux's through a
# directory of links. Sanitizer builds, and machines without musl-gcc or
# those headers, build it with $(CC) like the rest.
MUSL_CC ?= $(shell command -v musl-gcc 2>/dev/null)
# The kernel's asm headers: in the multiarch directory on Debian.
LINUX_ASM := $(firstword $(wildcard \
	/usr/include/$(shell $(CC) -print-multiarch 2>/dev/null)/asm \
	/usr/include/$(shell uname -m)-linux-gnu/asm /usr/include/asm))
ifeq ($(LINUX_ASM),)
MUSL_CC :=
endif
ifeq ($(SANITIZE),1)
MUSL_CC :=
endif
LAUNCHER_SRC := supervisor/launcher.c supervisor/procfs.c lib/envfile.c lib/fsutil.c lib/sha256.c \
	$(filter-out supervisor/sandbox_cli_policy.c,$(wildcard supervisor/sandbox*.c))
launcher_obj = $(patsubst %.c,$(BUILD)/launcher/%.o,$(1))
LINUX_HEADERS := $(BUILD)/launcher/linux-headers
ifneq ($(MUSL_CC),)
LAUNCHER_CC := $(MUSL_CC)
LAUNCHER_CFLAGS = $(CFLAGS) -isystem $(LINUX_HEADERS)
LAUNCHER_LDFLAGS = $(LDFLAGS) -static
LAUNCHER_DEPS := $(LINUX_HEADERS)/.made
else
LAUNCHER_CC := $(CC)
LAUNCHER_CFLAGS = $(CFLAGS)
LAUNCHER_LDFLAGS = $(LDFLAGS)
LAUNCHER_DEPS :=
endif

$(LINUX_HEADERS)/.made:
	@mkdir -p $(dir $@)
	ln -sfn /usr/include/linux $(LINUX_HEADERS)/linux
	ln -sfn $(LINUX_ASM) $(LINUX_HEADERS)/asm
	ln -sfn /usr/include/asm-generic $(LINUX_HEADERS)/asm-generic
	touch $@

$(BUILD)/launcher/%.o: %.c $(LAUNCHER_DEPS)
	@mkdir -p $(dir $@)
	$(LAUNCHER_CC) $(LAUNCHER_CFLAGS) -c -o $@ $<

$(BUILD)/coworker: $(call launcher_obj,$(LAUNCHER_SRC))
	$(LAUNCHER_CC) $(LAUNCHER_LDFLAGS) -o $@ $^

$(BUILD)/coworker-worker: $(call obj,worker/main.c) $(WORKER_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_WORKER))

$(BUILD)/replay-server: $(call obj,contrib/replay-server.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,libcjson)

# These start a worker the way the supervisor does, so they also link the
# supervisor's spawning and checking code.
WORKER_SPAWN_TESTS := $(BUILD)/tests/test_worker_escape
$(WORKER_SPAWN_TESTS): $(BUILD)/tests/%: $(call obj,tests/unit/%.c) \
		$(call obj,supervisor/worker_proc.c supervisor/worker_check.c \
		supervisor/procfs.c) $(WORKER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_WORKER) $(PKGS_TEST))

$(BUILD)/tests/test_worker_%: $(call obj,tests/unit/test_worker_%.c) $(WORKER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_WORKER) $(PKGS_TEST))

$(BUILD)/tests/test_%: $(call obj,tests/unit/test_%.c) $(SUPERVISOR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_SUPERVISOR) $(PKGS_TEST))

$(BUILD)/tests/helpers/%: $(call obj,tests/helpers/%.c) $(SUPERVISOR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_SUPERVISOR))

# The shipped skills, coworker-supervisor and coworker-worker are found
# here once installed, when they are not beside the running program.
$(BUILD)/obj/supervisor/skills.o: CFLAGS += \
	-DCOWORKER_SKILLS_DIR=\"$(PREFIX)/share/coworker/skills\"
$(BUILD)/obj/supervisor/worker_proc.o $(BUILD)/launcher/supervisor/launcher.o: \
	CFLAGS += -DLIBEXECDIR=\"$(PREFIX)/libexec/coworker\"

# The objects that compile PREFIX in are rebuilt when it changes, so that
# `make install PREFIX=DIR` after a plain `make` installs the paths of DIR.
# The file is rewritten only when its content differs.
$(BUILD)/obj/supervisor/skills.o $(BUILD)/obj/supervisor/worker_proc.o \
$(BUILD)/launcher/supervisor/launcher.o: $(BUILD)/prefix

$(BUILD)/prefix: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@

FORCE:

# Benchmarks are built on request, never by make check.
$(BUILD)/bench-sandbox-throughput: bench/sandbox-throughput.c $(SUPERVISOR_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SUPERVISOR_LINK) -lpthread

# libFuzzer targets for the parsers that read hostile files. `make fuzz`
# runs each for FUZZ_SECONDS; `make check` runs a short smoke round.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -I. $(call pkg_cflags,libcjson) \
	-fsanitize=fuzzer,address,undefined
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_policy_file $(BUILD)/fuzz/fuzz_shell \
	$(BUILD)/fuzz/fuzz_frontmatter

$(BUILD)/fuzz/fuzz_policy_file $(BUILD)/fuzz/fuzz_shell: $(BUILD)/fuzz/%: \
		tests/fuzz/%.c $(POLICY_SRC) $(wildcard policy/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(POLICY_SRC) $(LIB_SRC) \
		$(call pkg_libs,libcjson)

$(BUILD)/fuzz/fuzz_frontmatter: tests/fuzz/fuzz_frontmatter.c \
		supervisor/skills_yaml.c supervisor/skills_validate.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^

# Seeds: the checked-in corpora, and every SKILL.md for the front matter.
fuzz fuzz-smoke: $(FUZZ_TARGETS)
	mkdir -p $(BUILD)/fuzz/corpus-fuzz_frontmatter
	for d in skills/*/ tests/fixtures/skills/*/; do \
		cp "$$d/SKILL.md" \
		"$(BUILD)/fuzz/corpus-fuzz_frontmatter/$$(basename $$d).md"; \
	done
	for f in $(FUZZ_TARGETS); do \
		n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		seeds=tests/fuzz/corpus/$${n#fuzz_}; [ -d $$seeds ] || seeds=; \
		$$f -max_total_time=$(if $(filter fuzz-smoke,$@),$(FUZZ_SMOKE_SECONDS),$(FUZZ_SECONDS)) \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/corpus-$$n $$seeds || exit 1; \
	done

# Every test emits TAP and runs under prove, so a failure names its test.
# The suppressions matter only in sanitizer builds (libedit's own leaks).
check: export LSAN_OPTIONS = suppressions=$(abspath tests/lsan.supp):print_suppressions=0
check: deps
	$(MAKE) all $(UNIT_TESTS) $(HELPERS)
	scripts/check-banned
	COWORKER_BUILD=$(abspath $(BUILD)) CMOCKA_MESSAGE_OUTPUT=TAP \
		prove -v --exec '' $(UNIT_TESTS)
	COWORKER_BUILD=$(abspath $(BUILD)) \
		prove -v --exec 'bats --tap' tests/integration/*.bats
	COWORKER_BUILD=$(abspath $(BUILD)) \
		prove -v --exec 'bats --tap' tests/escape/*.bats
	@if echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
		$(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then \
		$(MAKE) fuzz-smoke; \
	else \
		echo "# SKIP fuzz smoke run: $(FUZZ_CC) with libFuzzer is not installed"; \
	fi

demo: deps
	$(MAKE) all
	contrib/demo/run-demo $(abspath $(BUILD))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/coworker
	install -m 0755 $(BUILD)/coworker $(DESTDIR)$(PREFIX)/bin/coworker
	install -m 0755 $(BUILD)/coworker-supervisor \
		$(DESTDIR)$(PREFIX)/libexec/coworker/coworker-supervisor
	install -m 0755 $(BUILD)/coworker-worker \
		$(DESTDIR)$(PREFIX)/libexec/coworker/coworker-worker
	install -d $(DESTDIR)$(PREFIX)/share/coworker/skills
	cp -R skills/. $(DESTDIR)$(PREFIX)/share/coworker/skills/

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj $(BUILD)/launcher -name '*.d' 2>/dev/null)
