# ckernel: a Jupyter kernel for C, compiled in memory with libtcc.
#
# Settings first; nothing below them should need changing.
#   make            build build/bin/ckernel, build/bin/ckernel-worker and the kernelspec
#   make run        install what is missing, build, install the kernelspec, open the notebooks
#   make test       install what is missing, build, run every test
#   make install    install binaries and kernelspec for the current user (PREFIX honoured)
#   make bench      speed against ipykernel and xeus-python (README "Speed")

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -Ikernel -Iruntime
PREFIX  ?= $(HOME)/.local
PY      := /usr/bin/python3
BUILD   := build

KERNEL_LIBS := -lzmq -ljansson -lcrypto -luuid -lpthread
WORKER_LIBS := $(BUILD)/libtcc-ck.a -ljansson -ldl -lm -lpthread

# The kernel process: everything about Jupyter.
KERNEL_SRC := kernel/main.c kernel/log.c kernel/connection.c kernel/wire.c \
              kernel/channels.c kernel/handlers.c kernel/history.c \
              kernel/worker.c kernel/lexer.c kernel/ipc.c
# The worker process: compiles and runs cells; the runtime is linked in and
# exported (-rdynamic) so cells can call it.
WORKER_SRC := kernel/worker_main.c kernel/log.c kernel/cell.c kernel/session.c kernel/magics.c kernel/crash.c kernel/complete.c \
              kernel/compile.c kernel/headers.c kernel/lexer.c kernel/ipc.c runtime/nb.c \
              runtime/alloc.c runtime/stack.c runtime/measure.c runtime/bench.c runtime/where.c \
              runtime/svg.c runtime/display.c runtime/buf.c $(BUILD)/gen/nb_header.c

KERNEL_OBJ := $(KERNEL_SRC:%.c=$(BUILD)/obj/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/obj/%.o)
ALL_OBJ    := $(sort $(KERNEL_OBJ) $(WORKER_OBJ))

SPEC_DIR := $(BUILD)/share/jupyter/kernels/c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all run test test-unit test-protocol test-notebooks deps install uninstall clean kernelspec \
        bench bench-smoke

all: $(BUILD)/bin/ckernel $(BUILD)/bin/ckernel-worker kernelspec

$(BUILD)/obj/%.o: %.c $(wildcard kernel/*.h runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Cells are compiled with runtime/nb.h; the worker carries its text.
$(BUILD)/gen/nb_header.c: runtime/nb.h
	@mkdir -p $(dir $@)
	{ echo 'const char nb_header_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

$(BUILD)/bin/ckernel: $(KERNEL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(KERNEL_LIBS)

# libtcc with its allocator calls renamed to the compile arena's
# (compile.c): fork does not copy that memory, so compiling after a
# snapshot costs no copy-on-write faults.
LIBTCC_A := /usr/lib/x86_64-linux-gnu/libtcc.a
$(BUILD)/libtcc-ck.a: $(LIBTCC_A)
	@mkdir -p $(dir $@)
	objcopy --redefine-sym malloc=ck_tcc_malloc --redefine-sym calloc=ck_tcc_calloc \
	        --redefine-sym realloc=ck_tcc_realloc --redefine-sym free=ck_tcc_free $< $@

$(BUILD)/bin/ckernel-worker: $(WORKER_OBJ) $(BUILD)/libtcc-ck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -rdynamic $(WORKER_OBJ) -o $@ $(WORKER_LIBS)

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

# Unit tests: one cmocka program a module, linked with the objects it tests.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(filter-out $(BUILD)/obj/kernel/main.o $(BUILD)/obj/kernel/worker_main.o,$(ALL_OBJ)) $(BUILD)/libtcc-ck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ -rdynamic -lcmocka $(sort $(KERNEL_LIBS) $(WORKER_LIBS))

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test-unit test-protocol test-notebooks bench-smoke

test-unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

test-protocol: all
	cd tests && $(PY) -m pytest -q protocol

test-notebooks: all
	cd tests && $(PY) -m pytest -q notebooks

# Speed against ipykernel and xeus-python (bench/bench.py; README "Speed").
# deps installs both baseline kernels. Iteration counts: BENCH_* variables
# or flags, e.g. `make bench BENCH_ARGS="--roundtrips 100"`.
ECHO_FLOOR := $(BUILD)/bench/echo_floor
$(ECHO_FLOOR): bench/echo_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ -lzmq -ljansson -lcrypto

bench: deps
	@$(MAKE) --no-print-directory all $(ECHO_FLOOR)
	$(PY) bench/bench.py $(BENCH_ARGS)

# A few iterations of every measurement, so the benchmark cannot rot; it
# checks that each produced a number, never how fast it was.
bench-smoke: all $(ECHO_FLOOR)
	$(PY) bench/bench.py --smoke

install: all
	install -d $(PREFIX)/bin
	install -m 755 $(BUILD)/bin/ckernel $(BUILD)/bin/ckernel-worker $(PREFIX)/bin/
	install -d $(PREFIX)/share/jupyter/kernels/c
	sed 's|@KERNEL@|$(abspath $(PREFIX)/bin/ckernel)|' kernelspec/kernel.json.in > $(PREFIX)/share/jupyter/kernels/c/kernel.json
	install -m 644 kernelspec/logo-svg.svg kernelspec/logo-32x32.png kernelspec/logo-64x64.png $(PREFIX)/share/jupyter/kernels/c/

uninstall:
	rm -f $(PREFIX)/bin/ckernel $(PREFIX)/bin/ckernel-worker
	rm -rf $(PREFIX)/share/jupyter/kernels/c

clean:
	rm -rf $(BUILD)
