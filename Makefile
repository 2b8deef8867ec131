# hasuite: a Heartbeat-compatible two-node HA suite.
#
#   make build   every binary into bin/ (static: no libc, smaller footprint)
#   make test    unit, simulator and netns end-to-end tests (root; installs test deps)
#   make e2e     only the end-to-end tests
#   make bench   the side-by-side benchmark: ours, keepalived and Heartbeat
#                3.0.6 through the same scenarios, and the 100-VIP false-death
#                count; table build/bench.md, chart docs/bench-compare.png
#                (netns, root; BENCH_QUICK=1 for a short check of the harness)
#   make bench-all every benchmark of test/bench and test/benchres (long)
#   make demo    a two-node cluster in network namespaces, a killed peer detected
#   make install binaries into $(DESTDIR)$(PREFIX), and the systemd unit or
#                the SysV init script (INIT=auto|systemd|sysv|both)
#   make fuzz    every fuzz target for FUZZTIME each
#   make man     the man pages from docs/man/*.md into build/man (go-md2man)
#   make deb     build/hasuite_<version>_<arch>.deb (dpkg-deb; no network)

GO        ?= go
PREFIX    ?= /usr/local
FUZZTIME  ?= 20s
BINARIES  := heartbeat cl_status hactl hb_standby hb_takeover
# What make install installs to start the daemon at boot: systemd (the unit
# in /etc/systemd/system), sysv (the script in /etc/init.d), both, or auto:
# the unit where systemd runs (/run/systemd/system exists), else the
# script; with DESTDIR (a package being built, whose target's init the
# build host does not tell) both, systemd ignoring a script that a unit of
# the same name replaces.
INIT      ?= auto
GOFLAGS   ?=
export GOFLAGS
# The version every binary reports (heartbeat -V) and the package carries:
# from git describe, mapped to a Debian version by scripts/version.sh.
# VERSION=... on the command line or in the environment overrides it.
ifndef VERSION
VERSION := $(shell sh scripts/version.sh)
endif
export VERSION
LDFLAGS   := -X github.com/hasuite/hasuite/heartbeat/api.Version=$(VERSION)
# More linker flags (e.g. -s -w: no symbol table, no DWARF).
EXTRA_LDFLAGS ?=
GOMD2MAN  ?= go-md2man
# The man pages: docs/man/<page>.<section>.md -> build/man/<page>.<section>.
MANPAGES  := $(patsubst docs/man/%.md,build/man/%,$(wildcard docs/man/*.md))

.PHONY: all build test unit e2e bench bench-all demo install fuzz lint deps clean man deb

all: build

build:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS) $(EXTRA_LDFLAGS)" -o bin/ $(addprefix ./cmd/,$(BINARIES))

man: $(MANPAGES)

build/man/%: docs/man/%.md
	@mkdir -p build/man
	$(GOMD2MAN) -in $< -out $@

# The Debian package, from the static binaries (stripped: -s -w) and the
# man pages; see scripts/mkdeb.sh and docs/operations.md ("Packaging").
deb: man
	$(MAKE) build EXTRA_LDFLAGS='-s -w'
	sh scripts/mkdeb.sh build

deps:
	@sh scripts/install-test-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The whole suite: lint, unit and simulator tests, end-to-end tests in
# network namespaces (with the real Heartbeat 3.0.6 as a peer).
test: deps lint build
	$(GO) test -count=1 -timeout 20m ./...

unit: lint
	$(GO) test -count=1 -short ./...

e2e: deps build
	$(GO) test -count=1 -timeout 20m -v ./test/e2e/

BENCH_JSON ?= $(CURDIR)/build/bench.json

bench: deps build
	mkdir -p build
	BENCH_JSON=$(BENCH_JSON) $(GO) test -p 1 -count=1 -timeout 60m -run '^$$' -bench 'SideBySide|FalseDeathsVIP100' -benchtime 1x -v ./test/benchres/ | tee build/bench.log
	cd test/benchreport && $(GO) run . -in $(BENCH_JSON) -md $(CURDIR)/build/bench.md -png $(CURDIR)/docs/bench-compare.png
	cat build/bench.md

bench-all: deps build
	$(GO) test -p 1 -count=1 -timeout 90m -run '^$$' -bench . -benchtime 1x -v ./test/bench/ ./test/benchres/

demo: build
	@bash scripts/demo.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/heartbeat $(DESTDIR)$(PREFIX)/sbin/heartbeat
	install -m 0755 bin/cl_status bin/hactl bin/hb_standby bin/hb_takeover $(DESTDIR)$(PREFIX)/bin/
	@init='$(INIT)'; \
	if [ "$$init" = auto ]; then \
		if [ -n '$(DESTDIR)' ]; then init=both; \
		elif [ -d /run/systemd/system ]; then init=systemd; \
		else init=sysv; fi; \
	fi; \
	case $$init in \
	systemd|sysv|both) ;; \
	*) echo "INIT=$$init: want auto, systemd, sysv or both" >&2; exit 2 ;; \
	esac; \
	set -ex; \
	if [ $$init != sysv ]; then \
		install -d $(DESTDIR)/etc/systemd/system; \
		sed 's|^ExecStart=/usr/local/sbin/heartbeat|ExecStart=$(PREFIX)/sbin/heartbeat|' etc/systemd/heartbeat.service \
			>$(DESTDIR)/etc/systemd/system/heartbeat.service; \
		chmod 0644 $(DESTDIR)/etc/systemd/system/heartbeat.service; \
	fi; \
	if [ $$init != systemd ]; then \
		install -d $(DESTDIR)/etc/init.d; \
		sed 's|:-/usr/sbin/heartbeat}|:-$(PREFIX)/sbin/heartbeat}|' etc/init.d/heartbeat >$(DESTDIR)/etc/init.d/heartbeat; \
		chmod 0755 $(DESTDIR)/etc/init.d/heartbeat; \
	fi

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; done

clean:
	rm -rf bin build
