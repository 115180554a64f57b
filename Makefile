# Veedel. `make run` starts the demo, `make test` runs every test.
GO ?= go
# The Go release with the security fixes the code needs (go.mod names it):
# the go command fetches it through the module proxy on first use, since a
# machine's own Go ignores go.mod's version under GOTOOLCHAIN=local.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN
PKGS := ./...
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/veedel/veedel.Version=$(VERSION)

.PHONY: axe run build load load-central test test-short bench chaos offline lint staticcheck vuln fmt clean screenshots image image-deps image-test image-bin image-test-key

# The demo on PORT (central) and the next ports (the sites); its simulated
# printers listen on PORT+11 onwards. Built first and exec'd, so that Ctrl-C
# reaches veedel itself, which stops cleanly and exits 0 (go run would
# report exit status 1 and make an error).
PORT ?= 8080
run: build ## the demo: central plus the sites on embedded SQLite
	exec bin/veedel demo -port $(PORT)

# Load on a site: LOAD_URL=http://127.0.0.1:8081 loads a running demo
# (make run; its data in ./var/demo); without it, make load starts its own
# demo on LOAD_PORT with fresh data in ./var/load and stops it afterwards.
# LOAD_FLAGS are veedel load's flags (-kiosks 16 -counters 4 -readers 4
# -duration 15s -single 5s -waiting 1000 by default). LOAD_BIN is the
# veedel that runs that demo: another build (of an older commit, say) for
# a before/after comparison under the same load.
LOAD_URL ?=
LOAD_PORT ?= 18080
LOAD_FLAGS ?=
LOAD_BIN ?= bin/veedel
load: build ## N kiosks, M counters and R readers on a demo site: throughput and p50/p99
	@if [ -n "$(LOAD_URL)" ]; then \
		exec bin/veedel load -url $(LOAD_URL) $(LOAD_FLAGS); \
	fi; \
	rm -rf var/load; mkdir -p var/load; \
	$(LOAD_BIN) demo -port $(LOAD_PORT) -data var/load >var/load/demo.log 2>&1 & demo=$$!; \
	trap 'kill $$demo 2>/dev/null; wait $$demo 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 100); do curl -sf http://127.0.0.1:$$(($(LOAD_PORT)+1))/healthz >/dev/null && break; sleep 0.1; done; \
	bin/veedel load -url http://127.0.0.1:$$(($(LOAD_PORT)+1)) -data var/load $(LOAD_FLAGS)

# Load on central: LOAD_SITES simulated sites (real appliances) with busy
# days against three central nodes on PostgreSQL (LOAD_DB; the load runs in
# a new schema of it, dropped afterwards), node A killed with SIGKILL
# midway: ingest rate, commit → status page on another node (p50/p99), and
# no entry lost or doubled. About a minute; LOAD_CENTRAL_FLAGS are veedel
# load central's flags (-rate 2 -duration 40s -kill-after 15s by default).
LOAD_DB ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
LOAD_SITES ?= 10
LOAD_CENTRAL_FLAGS ?=
load-central: build ## N sites against three central nodes on PostgreSQL, one killed: ingest rate, commit → portal p99, nothing lost
	bin/veedel load central -db '$(LOAD_DB)' -sites $(LOAD_SITES) -data var/loadcentral $(LOAD_CENTRAL_FLAGS)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/veedel ./cmd/veedel

# axe-core, which the browser tests inject into every page they visit
# (internal/web/webtest/axe.go), from npm at a pinned version into an
# ignored folder; without npm the browser tests skip the axe checks.
AXE_VERSION := 4.14.1
AXE := .cache/axe/node_modules/axe-core/axe.min.js
axe:
	@test -f $(AXE) && grep -q '$(AXE_VERSION)' $(AXE) || \
	  { command -v npm >/dev/null 2>&1 && npm install --no-save --no-audit --no-fund --prefix .cache/axe axe-core@$(AXE_VERSION) >/dev/null; } || \
	  echo "make: could not install axe-core (no npm, or offline); browser tests skip the axe checks"

# -p 4 on a 2-core machine: the end-to-end packages mostly wait on sockets
# and browsers, and cmd/veedel (the longest) starts as soon as it is built
# instead of waiting for a free slot behind central/server and
# appliance/server.
# cmd/veedel's end-to-end tests, by far the longest package, run as three
# processes beside the other packages (they wait mostly on sockets, browsers
# and timers, so the shards overlap on 2 cores instead of queueing): the fault and invariant suites, the chromium tests (every page
# through axe), and the rest. The chromium tests run without the race
# detector: it multiplied the servers' CPU while chromium waited and pushed
# CI past 20 minutes, and the handlers they drive run under -race in their
# packages' tests (appliance/server, central/server) and in the other two
# shards.
E2E_FAULTS := ^(TestChaos.*|TestInvariant.*)$$
E2E_BROWSER := ^(TestAxe.*|Test.*Browser.*)$$
test: axe ## every test (with the race detector but for the chromium tests, which need chromium)
	@rm -f .cache/axe/summary.txt
	@export VEEDEL_AXE_SUMMARY=$(CURDIR)/.cache/axe/summary.txt; \
	echo "$(GO) test -race -count=1 -p 2 -timeout 15m (every package but cmd/veedel), and cmd/veedel in three shards (faults, browser without -race, the rest)"; \
	$(GO) test -race -count=1 -p 2 -timeout 15m $$($(GO) list $(PKGS) | grep -v '/cmd/veedel$$') & a=$$!; \
	$(GO) test -race -count=1 -timeout 20m -run '$(E2E_FAULTS)' ./cmd/veedel & b=$$!; \
	$(GO) test -count=1 -timeout 20m -run '$(E2E_BROWSER)' -skip '$(E2E_FAULTS)' ./cmd/veedel & c=$$!; \
	$(GO) test -race -count=1 -timeout 20m -skip '$(E2E_FAULTS)|$(E2E_BROWSER)' ./cmd/veedel & d=$$!; \
	s=0; wait $$a || s=1; wait $$b || s=1; wait $$c || s=1; wait $$d || s=1; \
	cat .cache/axe/summary.txt 2>/dev/null; exit $$s

test-short:
	$(GO) test -short -count=1 $(PKGS)

# BENCH_COUNT runs of every benchmark: the table shows each figure's
# median and its minimum (make bench BENCH_COUNT=1 for a quick look).
BENCH_COUNT ?= 3
bench: ## benchmarks, printed as a table
	$(GO) test -run '^$$' -bench . -benchmem -count=$(BENCH_COUNT) $(PKGS) | $(GO) run ./internal/benchtable

# Fault injection: SEEDS random schedules (make chaos SEEDS=30), or the one
# schedule of SEED (make chaos SEED=1234), plus kill -9 of the appliance;
# with the race detector unless RACE= is given. CI's make test runs 3.
SEEDS ?= 3
SEED ?=
RACE ?= -race
chaos:
	CHAOS_SEEDS=$(SEEDS) CHAOS_SEED=$(SEED) $(GO) test $(RACE) -count=1 -timeout 60m -run 'Chaos|InvariantChecker' -v ./cmd/veedel

offline: ## a busy site's 30 days offline (300,000 entries) catching up; not run under -race
	$(GO) test -count=1 -timeout 20m -run 'TestThirtyDaysOffline' -v ./cmd/veedel

lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)

# staticcheck at a pinned version, built by the go command (CI runs it).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
staticcheck:
	$(GO) run $(STATICCHECK) ./...

# govulncheck against the Go vulnerability database, built offline from the
# golang.org/x/vulndb module the proxy serves (scripts/vuln.sh says how).
vuln:
	GO=$(GO) scripts/vuln.sh

fmt:
	gofmt -w .

clean:
	rm -rf bin var

# The appliance's disk image (images/build.sh, docs/IMAGES.md) from Debian
# stable into IMAGE_OUT: veedel.img, rootfs.squashfs (what veedel release
# sign -rootfs takes) and SHA256SUMS. Needs root; image-deps installs the
# build's tools from Debian when they are missing.
IMAGE_OUT ?= .cache/images/out
IMAGE_TOOLS := mmdebstrap mksquashfs mkfs.fat mcopy mkfs.ext4 sfdisk qemu-system-x86_64
IMAGE_PACKAGES := mmdebstrap squashfs-tools dosfstools mtools e2fsprogs fdisk qemu-system-x86 ovmf
image-deps:
	@missing=; for t in $(IMAGE_TOOLS); do command -v $$t >/dev/null 2>&1 || PATH=$$PATH:/usr/sbin:/sbin command -v $$t >/dev/null 2>&1 || missing=1; done; \
	  [ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing=1; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" -ne 0 ]; then echo "make image: as root, or: sudo apt-get install $(IMAGE_PACKAGES)"; exit 2; fi; \
	    echo "make image: installing $(IMAGE_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(IMAGE_PACKAGES) >/dev/null; \
	  fi

# RELEASE_PUB: the city's public release key(s) the image trusts for
# updates (veedel release keygen's .pub; two, space-separated, during a
# rotation). Without it the image takes no updates.
image-bin:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" -o .cache/images/veedel ./cmd/veedel

image: image-deps image-bin
	PATH=$$PATH:/usr/sbin:/sbin RELEASE_PUB="$(RELEASE_PUB)" images/build.sh .cache/images/veedel $(IMAGE_OUT)

# Boots the image in qemu (UEFI; software emulation, VEEDEL_QEMU_ACCEL=kvm
# where KVM works) to the appliance's /healthz through a forwarded port,
# then updates it (A to B, a failing release rolled back, a kill while the
# slot is written) against a central on the host. The image trusts a test
# release key made here (never a city's key) unless RELEASE_PUB is given.
TEST_RELEASE_KEY := .cache/images/test-release.key
image-test: RELEASE_PUB ?= $(TEST_RELEASE_KEY:.key=.pub)
image-test: image-test-key image
	VEEDEL_IMAGE_TEST=1 VEEDEL_IMAGE=$(CURDIR)/$(IMAGE_OUT)/veedel.img VEEDEL_BIN=$(CURDIR)/.cache/images/veedel \
	  VEEDEL_ROOTFS=$(CURDIR)/$(IMAGE_OUT)/rootfs.squashfs VEEDEL_RELEASE_KEY=$(CURDIR)/$(TEST_RELEASE_KEY) \
	  $(GO) test -count=1 -timeout 60m -v -run 'TestImageBootsToHealthy|TestImageUpdates' ./images

image-test-key: image-bin
	@test -f $(TEST_RELEASE_KEY) || .cache/images/veedel release keygen -out $(TEST_RELEASE_KEY)

screenshots: axe ## browser test with screenshots of kiosk, desk, display and portal in ./screenshots
	VEEDEL_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run Browser -v ./cmd/veedel
