# The datapath: eBPF objects compiled CO-RE against the running kernel's BTF, and the
# native addon that loads them. Included by the top-level Makefile.
BPF_BUILD := bpf/build
BPF_PROGS := $(patsubst bpf/%.bpf.c,$(BPF_BUILD)/%.bpf.o,$(wildcard bpf/*.bpf.c)) $(BPF_BUILD)/router_kfunc.bpf.o $(BPF_BUILD)/edge_kfunc.bpf.o
BPF_HEADERS := $(shell find bpf/include -name '*.h')
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I$(BPF_BUILD)
ADDON := bpf/addon/build/Release/cillion_bpf.node
ADDON_SRC := $(wildcard bpf/addon/*.cc bpf/addon/*.h) bpf/addon/binding.gyp

.PHONY: bpf

$(BPF_BUILD)/vmlinux.h: | $(STAMPS)/apt
	@mkdir -p $(BPF_BUILD)
	@bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

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
$(ADDON): $(ADDON_SRC) $(STAMPS)/npm
	@echo "node-gyp bpf/addon"
	@cd bpf/addon && MAKEFLAGS= npx --no-install node-gyp rebuild --nodedir=/usr --loglevel=error >/dev/null

bpf: $(ABI_LAYOUT) $(BPF_PROGS) $(ADDON)

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
