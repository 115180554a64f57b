# Veedel. `make run` starts the demo, `make test` runs every test.
GO ?= go
PKGS := ./...
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/veedel/veedel.Version=$(VERSION)

.PHONY: run build test test-short bench lint fmt clean screenshots

run: ## the demo: central plus the sites kalk and porz on embedded SQLite
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/veedel demo

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/veedel ./cmd/veedel

test: ## every test, with the race detector (browser tests need chromium)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

bench: ## benchmarks, printed as a table
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS) | $(GO) run ./internal/benchtable

lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)

fmt:
	gofmt -w .

clean:
	rm -rf bin var

screenshots: ## browser test with screenshots of kiosk, desk, display and portal in ./screenshots
	VEEDEL_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run Browser -v ./cmd/veedel
