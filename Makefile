# ckernel: a Jupyter kernel for C, compiled in memory with libtcc.
#
# Settings first; nothing below them should need changing.
#   make            build build/bin/ckernel, build/bin/ckernel-worker, build/bin/ckernel-escape, the kernelspec
#   make run        install what is missing, build, install the kernelspec, open the notebooks
#   make test       install what is missing, build, run every test
#   make install    install binaries and kernelspec for the current user (PREFIX honoured)
#   make hub        JupyterHub for a class, with the kernel installed system-wide
#   make test-hub   that hub under load: HUB_USERS users at once (README "JupyterHub")
#   make bench      speed against ipykernel and xeus-python (README "Speed")

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -D_GNU_SOURCE
PREFIX   ?= $(HOME)/.local
PY       := /usr/bin/python3
BUILD    := build
# libtcc's static archive (Debian: libtcc-dev), found where the compiler looks.
LIBTCC_A ?= $(shell $(CC) -print-file-name=libtcc.a)

# The escape analyser (escape/, README "Escape") is built on libclang
# (Debian: libclang-14-dev), in a process of its own: the worker never loads it.
LLVM_DIR    ?= /usr/lib/llvm-14
ESCAPE_LIBS := -L$(LLVM_DIR)/lib -Wl,-rpath,$(LLVM_DIR)/lib -lclang -ljansson -lpthread
KERNEL_LIBS := -lzmq -ljansson -lsodium -luuid -lpthread
# The kernel binary itself links its libraries' archives (Debian's -dev
# packages ship them), so that it maps only the code it runs: libzmq.so
# would load libstdc++, libnorm, libpgm and Kerberos's six libraries in
# every kernel, 2.5 MiB resident (README "Speed", Idle RSS). libc and libm
# stay shared; GSSAPI, which only a socket given ZMQ_GSSAPI_* options
# uses, is answered by kernel/nogss.c. --gc-sections drops what nothing
# calls; -static-libgcc: libzmq's exceptions unwind without libgcc_s.so.
KERNEL_LINK := -Wl,-z,pack-relative-relocs -Wl,--gc-sections -Wl,--as-needed -static-libgcc \
               -Wl,-Bstatic -lzmq -lsodium -lpgm -lnorm -lprotokit -lbsd -lmd \
               -ljansson -luuid -lstdc++ -Wl,-Bdynamic -lm -lpthread
WORKER_LIBS := $(BUILD)/libtcc-ck.a -ljansson -lseccomp -ldl -lm -lpthread

# One folder a process (README "Layout"), each built by wildcard:
#   kernel/   the Jupyter process;  worker/   the process that compiles and
#   runs cells;  common/   what both link;  runtime/   the cells' library,
#   linked into the worker and exported (runtime/exports.list) to cells.
# A folder sees its own headers and those of the folders it may use, no more
# (runtime/ sees common/ for version.h only: it links nothing of common/).
COMMON_SRC := $(wildcard common/*.c)
KERNEL_SRC := $(wildcard kernel/*.c) $(COMMON_SRC)
WORKER_SRC := $(wildcard worker/*.c) $(wildcard runtime/*.c) $(COMMON_SRC) $(BUILD)/gen/nb_header.c
ESCAPE_SRC := $(wildcard escape/*.c)
HEADERS    := $(wildcard common/*.h kernel/*.h worker/*.h runtime/*.h escape/*.h)

$(BUILD)/obj/common/%.o:  INCLUDES := -Icommon
$(BUILD)/obj/kernel/%.o:  INCLUDES := -Ikernel -Icommon
$(BUILD)/obj/worker/%.o:  INCLUDES := -Iworker -Icommon -Iruntime
$(BUILD)/obj/runtime/%.o: INCLUDES := -Iruntime -Icommon
$(BUILD)/obj/escape/%.o:  INCLUDES := -Iescape -I$(LLVM_DIR)/include

KERNEL_OBJ := $(KERNEL_SRC:%.c=$(BUILD)/obj/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/obj/%.o)
ESCAPE_OBJ := $(ESCAPE_SRC:%.c=$(BUILD)/obj/%.o)

SPEC_DIR := $(BUILD)/share/jupyter/kernels/c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all run test test-unit test-protocol test-escape test-notebooks deps install uninstall clean kernelspec \
        bench bench-smoke bench-sampler fuzz test-reliability soak \
        test-frontends test-browser notebooks notebooks-src test-repeat hub test-hub

all: $(BUILD)/bin/ckernel $(BUILD)/bin/ckernel-worker $(BUILD)/bin/ckernel-escape $(BUILD)/lib/ckernel/libc.so \
     kernelspec

# The worker's stand-in for libc.so (see worker/compile.c): libc is loaded
# in the worker already, so cells need not parse it again. Empty: libtcc
# reads a linker script one byte a syscall, for every cell.
$(BUILD)/lib/ckernel/libc.so: Makefile
	@mkdir -p $(dir $@)
	: > $@

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

# Cells are compiled with runtime/nb.h; the worker carries its text.
$(BUILD)/gen/nb_header.c: runtime/nb.h
	@mkdir -p $(dir $@)
	{ echo 'const char nb_header_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

$(BUILD)/bin/ckernel: $(KERNEL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(KERNEL_LINK)

# libtcc with its allocator calls renamed to the compiler's memory
# (worker/scratch.c): fork does not copy that memory, so compiling after a
# snapshot costs no copy-on-write faults. Its exit() on running out of
# memory becomes a compile error instead of the worker's death. Its file
# calls go to worker/tccfiles.c: the unit's object passes in memory. Its
# zero-initialised statics (token hash table, value stack: 150 KiB) go to
# page-aligned section ck_tcc_bss, which fork does not copy either.
$(BUILD)/libtcc-ck.a: $(LIBTCC_A) Makefile
	@mkdir -p $(dir $@)
	objcopy --redefine-sym malloc=ck_tcc_malloc --redefine-sym calloc=ck_tcc_calloc \
	        --redefine-sym realloc=ck_tcc_realloc --redefine-sym free=ck_tcc_free \
	        --redefine-sym exit=ck_tcc_exit \
	        --redefine-sym open=ck_tcc_open --redefine-sym read=ck_tcc_read \
	        --redefine-sym lseek=ck_tcc_lseek --redefine-sym close=ck_tcc_close \
	        --redefine-sym unlink=ck_tcc_unlink --redefine-sym fdopen=ck_tcc_fdopen \
	        --rename-section .bss=ck_tcc_bss --set-section-alignment .bss=4096 $< $@

# What cells may call: runtime/exports.list, plus every nb_ name that
# runtime/nb.h (the cells' header) names, and nothing the header does not
# (the runtime's nb_internal_* stay the worker's).
$(BUILD)/gen/exports.list: runtime/exports.list runtime/nb.h
	@mkdir -p $(dir $@)
	{ sed '/^};/d' runtime/exports.list; \
	  grep -o '\bnb_[A-Za-z0-9_]*' runtime/nb.h | grep -v '^nb_internal' | sort -u | sed 's/.*/    &;/'; \
	  echo '};'; } > $@

$(BUILD)/bin/ckernel-worker: $(WORKER_OBJ) $(BUILD)/libtcc-ck.a $(BUILD)/gen/exports.list
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wl,--dynamic-list=$(BUILD)/gen/exports.list -Wl,-z,now $(WORKER_OBJ) -o $@ $(WORKER_LIBS)

$(BUILD)/bin/ckernel-escape: $(ESCAPE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(ESCAPE_LIBS)

# The kernelspec points at the binary's absolute path, so that
# JUPYTER_PATH=$PWD/build/share/jupyter finds a working kernel.
kernelspec: $(SPEC_DIR)/kernel.json
$(SPEC_DIR)/kernel.json: kernelspec/kernel.json.in kernelspec/logo-svg.svg kernelspec/logo-32x32.png kernelspec/logo-64x64.png Makefile
	@mkdir -p $(SPEC_DIR)
	sed 's|@KERNEL@|$(abspath $(BUILD)/bin/ckernel)|' kernelspec/kernel.json.in > $@
	cp kernelspec/logo-svg.svg kernelspec/logo-32x32.png kernelspec/logo-64x64.png $(SPEC_DIR)/

deps:
	@tools/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install
	@tools/run.sh "$(PREFIX)"

# A class on one JupyterHub (README "JupyterHub"): installs ckernel, its
# kernelspec, JupyterLab and the notebooks under HUB_PREFIX and starts
# Debian's JupyterHub with tools/hub/jupyterhub_config.py on 127.0.0.1:8000.
HUB_PREFIX ?= /usr/local
hub: deps
	HUB_PREFIX=$(HUB_PREFIX) tools/hub/hub.sh

# HUB_USERS users on a JupyterHub at once: notebook 02, trivial cells, one
# user's fork bomb, malloc loop and 100 MB print (tests/hub/load.py; README
# "JupyterHub"). As root it creates Unix accounts ckload01... and removes
# them. Not part of `make test`: a minute or more.
HUB_USERS ?= 10
test-hub: deps
	@$(MAKE) --no-print-directory all
	$(PY) tests/hub/load.py --users $(HUB_USERS)

# Unit tests: one cmocka program a module (tests/unit/test_<module>.c),
# linked with the objects it tests and what those call, listed here.
UNIT_connection := kernel/connection.o
UNIT_wire       := kernel/wire.o kernel/replay.o common/log.o
UNIT_lexer      := common/lexer.o
UNIT_jsonmem    := worker/jsonmem.o
UNIT_magics     := worker/magics.o
UNIT_runtime    := $(patsubst %.c,%.o,$(wildcard runtime/*.c))
UNIT_compile    := worker/compile.o worker/layout.o worker/scratch.o worker/tccfiles.o common/log.o $(UNIT_runtime)
UNIT_cell       := worker/cell.o worker/literals.o worker/textbuf.o common/lexer.o worker/scratch.o
UNIT_expand     := worker/expand.o common/lexer.o $(UNIT_compile)
UNIT_decls      := worker/decls.o worker/strmap.o common/lexer.o $(UNIT_compile)
UNIT_unit       := worker/unit.o worker/cell.o worker/literals.o worker/headers.o worker/textbuf.o build/gen/nb_header.o $(UNIT_decls)
UNIT_INCLUDES   := -Icommon -Ikernel -Iworker -Iruntime
UNIT_LIBS       := -lcmocka $(sort $(KERNEL_LIBS) $(WORKER_LIBS))

.SECONDEXPANSION:
$(BUILD)/tests/test_%: tests/unit/test_%.c $$(addprefix $(BUILD)/obj/,$$(UNIT_$$*)) $(BUILD)/libtcc-ck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(UNIT_INCLUDES) $(filter %.c %.o,$^) -o $@ -rdynamic $(UNIT_LIBS)

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test-unit test-protocol test-escape test-notebooks bench-smoke test-reliability fuzz \
	    test-frontends $(if $(wildcard /usr/bin/chromium),test-browser)

test-unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

test-protocol: all
	cd tests && $(PY) -m pytest -q protocol

test-notebooks: all
	cd tests && $(PY) -m pytest -q notebooks

# %escape: every verdict written beside tests/escape/*.c, through a real kernel.
test-escape: all
	cd tests && $(PY) -m pytest -q escape

# jupyter console in a terminal (tmux), and the HTML export (tools/notebooks.sh).
test-frontends: all
	cd tests && $(PY) -m pytest -q frontends

# JupyterLab (built from npm once, into build/frontends) and classic Notebook in
# headless Chromium, @jupyterlab/services from Node, tools/run.sh. `make test`
# runs it when /usr/bin/chromium exists. Screenshots: build/screenshots/.
test-browser: all
	tests/browser/run.sh

# Write every bundled notebook again from its generator, notebooks/src/gen_NN.py
# (tests/notebooks/test_generators.py checks the committed ones are what they write).
notebooks-src:
	@set -e; for g in notebooks/src/gen_*.py; do $(PY) $$g; done

# Execute every bundled notebook headless; HTML (C highlighted, SVG intact)
# and the executed .ipynb go to build/notebooks/.
notebooks: all
	tools/notebooks.sh $(BUILD)/notebooks

# Suites run N times in a row, with runs and failures per suite: finds the
# flaky test before CI does (tools/test_repeat.sh; run it with the machine
# loaded, e.g. `stress-ng --cpu 2` beside it).
N      ?= 10
SUITES ?= browser reliability notebooks protocol
test-repeat: all
	@N=$(N) SUITES="$(SUITES)" tools/test_repeat.sh

# Crashes, interrupts, limits and hostile cells (tests/reliability).
test-reliability: all
	cd tests && $(PY) -m pytest -q reliability

# 10,000 executes and 100 restarts; prints memory, fd and process figures
# (README "Soak"). Not part of `make test`: it takes minutes.
soak: all
	$(PY) tests/soak/soak.py $(SOAK_ARGS)

# libFuzzer targets for what parses untrusted bytes: messages (wire.c),
# the connection file, worker events (ipc.c). Seeds in tests/fuzz/corpus
# (tests/fuzz/gen_corpus.py); new finds go to build/fuzz/, never into the
# committed corpus. FUZZ_TIME seconds for the wire target, a quarter of it
# for each other one.
FUZZ_TIME  ?= 20
FUZZ_CC    := clang
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -Ikernel -Iworker -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined
FUZZ_BINS  := $(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/fuzz_connection $(BUILD)/fuzz/fuzz_ipc \
              $(BUILD)/fuzz/fuzz_cell
FUZZ_SRC_wire       := kernel/wire.c kernel/replay.c
FUZZ_SRC_connection := kernel/connection.c
FUZZ_SRC_ipc        := common/ipc.c
FUZZ_SRC_cell       := worker/magics.c common/lexer.c worker/cell.c worker/literals.c worker/textbuf.c \
                       worker/decls.c worker/strmap.c
FUZZ_LIBS           := -ljansson -lsodium -lzmq -luuid
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_SRC_$*) -o $@ $(FUZZ_LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in wire connection ipc cell; do \
	  secs=$(FUZZ_TIME); [ $$t = wire ] || secs=$$(( $(FUZZ_TIME) / 4 + 1 )); \
	  mkdir -p $(BUILD)/fuzz/new-$$t; echo "== fuzz_$$t for $$secs s"; \
	  $(BUILD)/fuzz/fuzz_$$t -max_total_time=$$secs -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/crash-$$t- $(BUILD)/fuzz/new-$$t tests/fuzz/corpus/$$t \
	    2>$(BUILD)/fuzz/fuzz_$$t.log || { tail -60 $(BUILD)/fuzz/fuzz_$$t.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done' $(BUILD)/fuzz/fuzz_$$t.log || true; \
	done

# Speed against ipykernel and xeus-python (bench/bench.py; README "Speed").
# deps installs both baseline kernels. Iteration counts: BENCH_* variables
# or flags, e.g. `make bench BENCH_ARGS="--roundtrips 100"`.
ECHO_FLOOR := $(BUILD)/bench/echo_floor
$(ECHO_FLOOR): bench/echo_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ -lzmq -ljansson -lsodium

bench: deps
	@$(MAKE) --no-print-directory all $(ECHO_FLOOR)
	$(PY) bench/bench.py $(BENCH_ARGS)

# Where %%profile's overhead goes: the sampler's timer, its signal and its
# handler's clock, each alone on one CPU-bound loop (README "Profiling").
SAMPLER_COST := $(BUILD)/bench/sampler_cost
$(SAMPLER_COST): bench/sampler_cost.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@
bench-sampler: $(SAMPLER_COST)
	$(SAMPLER_COST) $(SAMPLER_ARGS)

# A few iterations of every measurement, so the benchmark cannot rot; it
# checks that each produced a number, never how fast it was.
bench-smoke: all $(ECHO_FLOOR)
	$(PY) bench/bench.py --smoke

install: all
	install -d $(PREFIX)/bin
	install -m 755 $(BUILD)/bin/ckernel $(BUILD)/bin/ckernel-worker $(BUILD)/bin/ckernel-escape $(PREFIX)/bin/
	install -d $(PREFIX)/lib/ckernel
	install -m 644 $(BUILD)/lib/ckernel/libc.so $(PREFIX)/lib/ckernel/
	install -d $(PREFIX)/share/jupyter/kernels/c
	sed 's|@KERNEL@|$(abspath $(PREFIX)/bin/ckernel)|' kernelspec/kernel.json.in > $(PREFIX)/share/jupyter/kernels/c/kernel.json
	install -m 644 kernelspec/logo-svg.svg kernelspec/logo-32x32.png kernelspec/logo-64x64.png $(PREFIX)/share/jupyter/kernels/c/

uninstall:
	rm -f $(PREFIX)/bin/ckernel $(PREFIX)/bin/ckernel-worker $(PREFIX)/bin/ckernel-escape
	rm -rf $(PREFIX)/lib/ckernel
	rm -rf $(PREFIX)/share/jupyter/kernels/c

clean:
	rm -rf $(BUILD)
