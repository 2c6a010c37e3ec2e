# tracepin: `make run` serves the dashboard, `make test` runs every check. Both install what is missing.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
BIN := target/release/tracepin
# A clean CI checkout gains nothing from incremental caches; they only cost disk.
ifdef CI
export CARGO_INCREMENTAL := 0
endif
ADDR ?= 127.0.0.1:3000
VENV := end2end/.venv

CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5

.PHONY: run test setup setup-test tools fuzz-tools npm chromium sdk-venv build lint unit fuzz fuzz-smoke e2e bench fmt clean

run: setup build ## build and serve on http://127.0.0.1:3000 (the local store, seeded with the demo, unless upstreams are configured)
	@echo "tracepin: open http://$(ADDR)/"
	exec ./$(BIN) --addr $(ADDR)

test: setup-test lint unit fuzz-smoke build e2e ## everything CI runs
	@echo "make test: all checks passed"

setup: tools npm

setup-test: setup chromium sdk-venv

# cargo-leptos only orchestrates (cargo, wasm-bindgen, Tailwind and wasm-opt do the work), so a debug
# build of it installs in 260 s instead of 551 s (LTO off, 16 codegen units) with the same build time
# (34 s for a build with nothing to compile, either way) and byte-identical output in target/site.
tools:
	@if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then \
	  echo "installing the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; fi
	@if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then \
	  echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 5 minutes, once)"; \
	  cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads --debug; fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)"; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (the Cargo.lock version)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; fi

npm:
	@if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm install --no-audit --no-fund; fi
	@if [ ! -d end2end/node_modules/playwright-core ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
	  (cd end2end && npm install --no-audit --no-fund); fi

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the end-to-end tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y chromium || ($$SUDO apt-get update && $$SUDO apt-get install -y chromium); fi

# The pinned Python Sentry and OpenTelemetry SDKs the end-to-end test runs (examples/python).
sdk-venv:
	@if [ ! -x $(VENV)/bin/python ] || [ examples/python/requirements.txt -nt $(VENV)/.installed ]; then \
	  echo "installing the Python SDKs of examples/python into $(VENV)"; \
	  python3 -m venv $(VENV) && $(VENV)/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements.txt && \
	  touch $(VENV)/.installed; fi

build:
	cargo leptos build --release

lint:
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --features ssr

fuzz-tools:
	@if ! cargo fuzz --version 2>/dev/null | grep -q "$(CARGO_FUZZ_VERSION)"; then \
	  echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION)"; \
	  cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked; fi

fuzz: fuzz-tools ## every fuzz target for FUZZ_SECONDS (60) each: executions and findings per target
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: fuzz-tools ## every fuzz target for FUZZ_SMOKE_SECONDS (5) each, unoptimized build (part of make test)
	fuzz/run.sh $(FUZZ_SMOKE_SECONDS) --smoke

e2e:
	cd end2end && npx playwright test

# The browser bench runs first: `cargo bench` rebuilds target/release/tracepin without the settings
# cargo-leptos gives it (the wasm file name), and a page served by that binary never hydrates.
bench: setup-test build ## the browser bench and criterion benches (figures printed, nothing asserted)
	node end2end/bench/run.mjs 1000 10000 100000 1000000
	GEN_ATTRS=rich BENCH_SOURCE=jaeger node end2end/bench/run.mjs 100000
	BENCH_SOURCE=store node end2end/bench/run.mjs 100000
	end2end/bench/cli.sh 1000000 10000
	cargo bench --features ssr --bench correlate -- --warm-up-time 1 --measurement-time 3
	cargo bench --features ssr --bench decode -- --warm-up-time 1 --measurement-time 5
	cargo bench --features ssr --bench ingest
	@echo "rebuilding the server as cargo-leptos builds it (cargo bench replaced it)"
	cargo leptos build --release

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf fuzz/target
