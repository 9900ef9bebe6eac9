# stockroom — `make run` starts everything on a private PostgreSQL cluster,
# `make test` is the gate CI runs. Everything else is a step of those two.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/stockroom
PKGS  := ./...

.PHONY: run build test generate check-generated fmt-check vet lint deps-postgres deps-chromium deps-cluster cluster test-cluster bench bench-streams bench-webhooks clean

run: build deps-postgres ## build and start on the embedded default (private PostgreSQL cluster)
	./$(BIN) dev

cluster: build deps-postgres deps-cluster ## a local scale-out cluster: primary + replica + pgbouncer + 3 copies + haproxy on 127.0.0.1:8080 (Ctrl-C stops all)
	./$(BIN) dev --instances 3

test-cluster: deps-postgres deps-cluster ## the cluster checks through haproxy (shared state, the admin, SIGKILL a copy under orders, rolling restart, rate limit, replica stopped); a few minutes
	STOCKROOM_TEST_CLUSTER=1 $(GO) test -count=1 -timeout 10m -run '^TestCluster$$' -v ./cmd/stockroom

build: ## build the binary into bin/
	$(GO) build -trimpath -o $(BIN) ./cmd/stockroom

test: fmt-check vet lint check-generated deps-postgres deps-chromium deps-cluster ## the gate: format, vet, lint, generated code, all tests
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

generate: ## regenerate sqlc code from migrations/ and db/queries/
	$(GO) tool sqlc generate

check-generated: ## fail when the committed sqlc output is stale
	@$(GO) tool sqlc diff || { echo "generated code is stale: run 'make generate' and commit internal/db" >&2; exit 1; }

fmt-check:
	@out=$$(gofmt -l cmd internal migrations templates $$(ls -d bench 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "not gofmt-ed (run gofmt -w):"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

lint:
	$(GO) tool staticcheck $(PKGS)

# PostgreSQL server binaries: needed by `dev` (without STOCKROOM_DATABASE_URL) and by
# the tests when no server answers on 127.0.0.1:5432. Installed with apt when root.
deps-postgres:
	@if [ -n "$$STOCKROOM_DATABASE_URL" ] || command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing PostgreSQL server binaries (apt package postgresql)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL server binaries not found: install the package 'postgresql' (Debian/Ubuntu) or set STOCKROOM_DATABASE_URL" >&2; exit 1; \
	fi

# pgbouncer and haproxy (Debian packages) for the scale-out tests and `make cluster`:
# run as our own processes with configs in temporary directories, never as services.
deps-cluster:
	@if command -v pgbouncer >/dev/null 2>&1 && command -v haproxy >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing pgbouncer and haproxy (apt packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer haproxy >/dev/null; \
	else \
		echo "pgbouncer or haproxy not found: install the packages 'pgbouncer' and 'haproxy'" >&2; exit 1; \
	fi

# Chromium for the browser tests (chromedp).
deps-chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests (apt package chromium)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium not found: install the package 'chromium' for the browser tests" >&2; exit 1; \
	fi

# The load harness (bench/run): seeds a database, starts stockroom, the lean and same-SQL floors and the
# HTTP limit on 127.0.0.1, and measures S1-S6 with wrk next to pgbench's database
# limit, then the event stream scenario (bench/streams, scenario STREAMS). About 11 minutes; the
# report goes to bench/results/. Never part of `test`.
bench: deps-postgres
	$(GO) run ./bench/run

# The event stream scenario (bench/streams): two serve processes on the empty database at
# STREAMS_DATABASE_URL, 10,000 streams on one; memory per stream, idle CPU, latency.
bench-streams:
	$(GO) run ./bench/streams

# Webhooks (internal/webhooks): delivery throughput to a receiver on 127.0.0.1, and
# what the enqueue hook adds to a stock change's transaction (no hook, hook and no
# endpoint, one subscribed endpoint). About a minute.
bench-webhooks: deps-postgres
	$(GO) test -run '^$$' -bench Throughput -benchtime 10x ./internal/webhooks
	$(GO) test -run '^$$' -bench Enqueue -benchtime 300x -count 3 ./internal/webhooks

clean:
	rm -rf bin
