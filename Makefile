# make demo: the main job. make test: every test. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := build
STAMPS := .stamps
# The build's independent parts (tsc, each eBPF object, the addon) run side by side.
MAKEFLAGS += --jobs=$(shell nproc)
PROTOS := $(shell find proto -name '*.proto' -not -path 'proto/gen/*' 2>/dev/null)
TS_SRC := $(shell find scion cli collector columns mesh geofence geo observer paths metrics relay operator resources kube identity controlplane bpf test bench -name '*.ts' 2>/dev/null)

.PHONY: deps build proto test demo demo-down clean image image-test

include bpf/build.mk

$(STAMPS):
	@mkdir -p $@

# Debian packages, then npm ci; each re-runs only when its inputs change.
$(STAMPS)/apt: scripts/install-deps.sh | $(STAMPS)
	@scripts/install-deps.sh
	@touch $@

$(STAMPS)/npm: package.json package-lock.json $(STAMPS)/apt | $(STAMPS)
	@echo "npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(STAMPS)/apt $(STAMPS)/npm

# Generated gRPC/protobuf code (ts-proto); regenerated whenever a .proto changes. tsc depends on
# its stamp, not on the generated files, which the regeneration removes while make runs jobs in parallel.
$(STAMPS)/proto: $(PROTOS) $(STAMPS)/npm
	@scripts/gen-proto.sh
	@touch $@

proto: $(STAMPS)/proto

$(STAMPS)/tsc: $(STAMPS)/proto $(TS_SRC) tsconfig.json
	@echo "tsc"
	@npx tsc -p tsconfig.json
	@touch $@

# The browser app (web/): typechecked on its own (DOM, no node), with its unit tests' own
# config (the root tsconfig leaves web/ out), then bundled by esbuild into dist/web/.
WEB_SRC := $(shell find web observer/filters test/unit/web -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.html' -o -name '*.mjs' -o -name 'tsconfig.json' 2>/dev/null) observer/time_arg.ts

$(STAMPS)/web: $(STAMPS)/proto $(WEB_SRC)
	@echo "web"
	@npx tsc -p web/tsconfig.json --noEmit
	@npx tsc -p test/unit/web/tsconfig.json --noEmit
	@node web/build.mjs
	@touch $@

build: deps $(STAMPS)/tsc $(STAMPS)/web bpf

test: build
	@npx mocha 'test/**/*.test.ts'

# The demo runs the TypeScript sources through tsx, as the e2e tests do, so that what they
# check is what make demo runs. demo-down needs no build: it only removes what a demo left
# (processes, namespaces, pins, run dir).
CILLION_TS := node --require tsx/cjs cli/main.ts

demo: build
	@$(CILLION_TS) demo

demo-down:
	@if [ -d node_modules/tsx ]; then $(CILLION_TS) demo down; fi

# The container image (Dockerfile), tagged as deploy/ uses it. Needs root for podman; installs
# podman, runc and debootstrap if missing; not part of build or test.
IMAGE := cillion:$(shell node -p "require('./package.json').version" 2>/dev/null)

image:
	@scripts/image.sh deps
	@scripts/image.sh build $(IMAGE)

# The image's smoke test, which `make test` skips without CILLION_IMAGE_TEST=1.
image-test: image
	@CILLION_IMAGE_TEST=1 CILLION_IMAGE=$(IMAGE) npx mocha test/image/smoke.test.ts

clean:
	rm -rf dist proto/gen $(STAMPS) bpf/build bpf/addon/build
