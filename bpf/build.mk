# The datapath: eBPF objects compiled CO-RE against the running kernel's BTF, and the
# native addon that loads them. Included by the top-level Makefile.
BPF_BUILD := bpf/build
BPF_PROGS := $(patsubst bpf/%.bpf.c,$(BPF_BUILD)/%.bpf.o,$(wildcard bpf/*.bpf.c)) $(BPF_BUILD)/router_kfunc.bpf.o $(BPF_BUILD)/edge_kfunc.bpf.o
BPF_HEADERS := $(shell find bpf/include -name '*.h')
# The machine's architecture names libbpf's __TARGET_ARCH_* (register access in bpf_tracing.h);
# vmlinux.h comes from the running kernel's BTF, so it is this architecture's too.
ARCH ?= $(shell uname -m)
BPF_TARGET_ARCH_x86_64 := x86
BPF_TARGET_ARCH_aarch64 := arm64
BPF_TARGET_ARCH = $(or $(BPF_TARGET_ARCH_$(ARCH)),$(error unsupported architecture $(ARCH): the datapath builds on x86_64 and aarch64))
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_CFLAGS = -O2 -g -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_TARGET_ARCH) -I$(BPF_BUILD)
ADDON := bpf/addon/build/Release/cillion_bpf.node
ADDON_SRC := $(wildcard bpf/addon/*.cc bpf/addon/*.h) bpf/addon/binding.gyp
# The addon builds against the headers of the node that runs it (an installed package has no
# node-gyp of its own: npm's is passed in as NODE_GYP).
NODE_DIR ?= $(shell node -p "require('path').resolve(process.execPath, '..', '..')")
NODE_GYP ?= npx --no-install node-gyp

.PHONY: bpf bpf-runtime FORCE

# What the built objects and addon are for; rewritten only when the architecture changes, so
# that a change rebuilds them. The npm package's install step compares it with `uname -m`.
$(BPF_BUILD)/arch: FORCE
	@mkdir -p $(BPF_BUILD)
	@echo $(ARCH) | cmp -s - $@ || echo $(ARCH) > $@

$(BPF_BUILD)/vmlinux.h: $(BPF_BUILD)/arch | $(STAMPS)/apt
	@bpftool btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BPF_BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HEADERS) $(BPF_BUILD)/vmlinux.h
	@echo "clang $<"
	@clang $(BPF_CFLAGS) -c $< -o $@

# The router once more with hop-field MACs through the kernel's crypto kfuncs; the loader
# prefers it and falls back to router.bpf.o (table AES) where the kernel refuses it. Its
# kptr needs the btf_type_tag on a pointer to a complete struct in BTF, which clang 14
# drops and clang 15+ keeps: hence clang-16 here.
BPF_KFUNC_CLANG := $(shell command -v clang-16 || command -v clang-15 || echo clang-16)
$(BPF_BUILD)/router_kfunc.bpf.o: bpf/router.bpf.c $(BPF_HEADERS) $(BPF_BUILD)/vmlinux.h | $(STAMPS)/apt
	@echo "clang-16 $< (kfunc MACs)"
	@$(BPF_KFUNC_CLANG) $(BPF_CFLAGS) -DCIL_HOP_MAC_KFUNC -c $< -o $@

# The edge once more with SPAO authentication through the same kfuncs (bpf/include/lib/spao.h);
# without it (edge.bpf.o) authentication is off.
$(BPF_BUILD)/edge_kfunc.bpf.o: bpf/edge.bpf.c $(BPF_HEADERS) $(BPF_BUILD)/vmlinux.h | $(STAMPS)/apt
	@echo "clang-16 $< (SPAO)"
	@$(BPF_KFUNC_CLANG) $(BPF_CFLAGS) -DCIL_SPAO_KFUNC -c $< -o $@

# The TypeScript side of the header's structs, enums and #defines (docs/record-layout.md).
# Committed, so that type-checking needs no clang; regenerated whenever the header or the
# generator changes. abi-check fails, naming struct and field, when the committed file is stale.
ABI_LAYOUT := bpf/abi_layout.gen.ts
ABI_LAYOUT_TOOL := node --require tsx/cjs bpf/layout/main.ts

$(ABI_LAYOUT): bpf/include/cillion_abi.h $(wildcard bpf/layout/*.ts) | $(STAMPS)/apt $(STAMPS)/npm
	@echo "generate $@"
	@$(ABI_LAYOUT_TOOL) generate --out $@

.PHONY: abi-check
abi-check: | $(STAMPS)/apt $(STAMPS)/npm
	@$(ABI_LAYOUT_TOOL) check

# node-gyp runs a make of its own, which must not take our --jobs without our jobserver.
$(ADDON): $(ADDON_SRC) $(BPF_BUILD)/arch $(STAMPS)/npm
	@echo "node-gyp bpf/addon"
	@cd bpf/addon && MAKEFLAGS= $(NODE_GYP) rebuild --nodedir=$(NODE_DIR) --loglevel=error >/dev/null

# What `cillion` loads at run time, and all that the npm package's install step builds.
bpf-runtime: $(BPF_PROGS) $(ADDON) $(BPF_BUILD)/arch

bpf: $(ABI_LAYOUT) bpf-runtime

# Benchmark baselines and the C reference tools (bench/).
BENCH_BUILD := bench/build
BENCH_BPF := $(patsubst bench/%.bpf.c,$(BENCH_BUILD)/%.bpf.o,$(wildcard bench/*.bpf.c))
BENCH_TOOLS := $(BENCH_BUILD)/ringcons $(BENCH_BUILD)/udpflood

$(BENCH_BUILD)/%.bpf.o: bench/%.bpf.c $(BPF_HEADERS) $(BPF_BUILD)/vmlinux.h
	@mkdir -p $(BENCH_BUILD)
	@echo "clang $<"
	@clang $(BPF_CFLAGS) -c $< -o $@

$(BENCH_BUILD)/ringcons: bench/ringcons.c | $(STAMPS)/apt
	@mkdir -p $(BENCH_BUILD)
	@cc -O2 -Wall -o $@ $< -lbpf -lelf -lz

$(BENCH_BUILD)/udpflood: bench/udpflood.c
	@mkdir -p $(BENCH_BUILD)
	@cc -O2 -Wall -o $@ $<

bpf: $(BENCH_BPF) $(BENCH_TOOLS)
