# postfix-remedy: one entry point for setup, tests, the lab and the demo.
#   make test   - install everything, then ruff, ansible-lint, pytest, every Molecule scenario
#   make demo   - start the lab fleet and run the main job on it
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := $(CURDIR)/.venv
BIN    := $(VENV)/bin
SUITE  ?= bookworm
N      ?= 3
# Every scenario but `fault` (one catalog ID per run: make fault ID=...).
SCENARIOS ?= $(filter-out fault,$(notdir $(patsubst %/molecule.yml,%,$(wildcard tests/molecule/*/molecule.yml))))
# The version matrix in `make test`: these scenarios again on the other Debian suites' Postfix
# (bullseye 3.5, trixie 3.10); kept small for CI time (every scenario's prepare sets up the lab, so
# the lab scenario runs on bookworm only). Every scenario on one
# suite: make molecule SUITE=trixie.
MATRIX_SUITES ?= bullseye trixie
MATRIX_SCENARIOS ?= modules diagnose

export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR := $(if $(CI),0,1)
export PATH := $(BIN):$(PATH)
export LAB_SUITE := $(SUITE)
# Every ansible command imports cryptography's DSA classes at start (ansible-core 2.19's ssh-agent
# client), and cryptography 51 warns on that import: noise on every command, no DSA key is used.
# Only that warning is dropped (a PYTHONWARNINGS of yours is kept before it).
comma := ,
export PYTHONWARNINGS := $(if $(PYTHONWARNINGS),$(PYTHONWARNINGS)$(comma))ignore:DSA is deprecated

APT_PACKAGES := podman runc debootstrap postfix postfix-lmdb postfix-cdb postfix-pcre dnsmasq-base \
	bind9-dnsutils openssl ca-certificates python3-venv python3-pip git make strace \
	chromium poppler-utils fonts-dejavu-core pflogsumm time \
	systemd-journal-remote openssh-client sudo prometheus

.PHONY: collection sanity docs fault images test-molecule help setup system-deps venv image lint check unit fuzz molecule matrix test lab lab-down demo bench clean

help:
	@echo "Everyday:"
	@echo "  make check       ruff, ansible-lint and the unit tests that need neither root nor Postfix"
	@echo "                   (pytest -m 'not postfix'); the venv only: no apt, no containers"
	@echo "  make fault ID=x  one fault on one lab host: inject, diagnose, --check changes nothing, fix,"
	@echo "                   second diagnosis, second run changed=0 (IDs: docs/faults.md; SUITE=...)"
	@echo "  make docs        regenerate docs/faults.md from module_utils/fault_catalog.py"
	@echo "The full run:"
	@echo "  make test        setup, lint, sanity, unit, then in two lanes every Molecule scenario on"
	@echo "                   bookworm ($(SCENARIOS)) and $(MATRIX_SCENARIOS) on $(MATRIX_SUITES)"
	@echo "  make setup       Debian packages (apt, only the missing ones) and the .venv"
	@echo "  make venv        only the .venv from requirements.txt (no apt)"
	@echo "  make lint        ruff, ansible-lint, the execution environment definition"
	@echo "  make unit        every unit test (root and the Debian packages for the Postfix ones)"
	@echo "  make sanity      ansible-test sanity on the built collection"
	@echo "  make molecule    the Molecule scenarios on SUITE=$(SUITE) (SCENARIOS=\"lab ssh\" for some)"
	@echo "  make matrix      MATRIX_SCENARIOS on MATRIX_SUITES (the whole matrix: MATRIX_SCENARIOS=\"$(SCENARIOS)\")"
	@echo "  make fuzz        the long bad-input run (FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) cases per module)"
	@echo "  make bench       the benchmarks in tests/bench (BENCH=log|patterns|queue|fleet|journal, LOG_MB=...)"
	@echo "The collection:"
	@echo "  make collection  build postfix_remedy.toolkit into dist/"
	@echo "The lab:"
	@echo "  make image       build (or reuse) the lab image for SUITE (make images: every suite)"
	@echo "  make lab         start N=$(N) lab containers (SUITE=$(SUITE))"
	@echo "  make demo        the lab fleet and the main job on it"
	@echo "  make lab-down    remove every lab container"
	@echo "  make clean       lab-down, then remove .venv, reports/, dist/ and .cache/"

setup: system-deps venv

# Debian packages, installed only when missing. The host's own Postfix is set to
# "Local only" so installing it never opens a port beyond loopback. prometheus is here for promtool
# (tests/unit/test_monitoring.py; the metrics scenario runs prometheus on a container's loopback):
# the services Debian enables with it would listen on every address, so they are stopped and disabled.
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections; \
	  echo "postfix postfix/mailname string controller.lab.test" | debconf-set-selections; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  case " $$missing " in *" prometheus "*) for s in prometheus prometheus-node-exporter; do \
	    if [ -d /run/systemd/system ]; then systemctl disable --now $$s.service >/dev/null 2>&1 || true; \
	    else update-rc.d $$s disable >/dev/null 2>&1 || true; service $$s stop >/dev/null 2>&1 || true; fi; \
	  done ;; esac; \
	fi

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

venv: $(BIN)/.installed

image: system-deps
	lab/build-image.sh $(SUITE)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ansible-lint --offline --profile production
	$(BIN)/ansible-builder create -f execution-environment.yml -c $(CURDIR)/.cache/ee-context >/dev/null

# The contributor's fast loop: no apt, no root, no containers (the venv only).
check: venv
	$(BIN)/ruff check .
	$(BIN)/ansible-lint --offline --profile production
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not postfix" tests/unit

# System packages are `make setup`'s job (make test runs it first); unit installs nothing.
unit: venv
	$(BIN)/pytest -q -n 2 --dist loadfile tests/unit

# Long run of tests/unit/test_module_fuzz.py (issue 21): at least 2,000 cases per module.
FUZZ_EXAMPLES ?= 2000
fuzz: setup
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/unit/test_module_fuzz.py

fault: setup image
	@[ -n "$(ID)" ] || { echo "usage: make fault ID=<fault id>   (the IDs: docs/faults.md)" >&2; exit 2; }
	cd tests && FAULT_ID=$(ID) $(BIN)/molecule -c $(CURDIR)/tests/molecule/base.yml test -s fault

molecule: setup image
	cd tests && for s in $(SCENARIOS); do \
	  echo "=== molecule scenario $$s ($(SUITE))"; \
	  $(BIN)/molecule -c $(CURDIR)/tests/molecule/base.yml test -s $$s || exit 1; \
	done

matrix: setup
	for suite in $(MATRIX_SUITES); do \
	  lab/build-image.sh $$suite; \
	  for s in $(MATRIX_SCENARIOS); do \
	    echo "=== molecule scenario $$s ($$suite)"; \
	    (cd tests && LAB_SUITE=$$suite $(BIN)/molecule -c $(CURDIR)/tests/molecule/base.yml test -s $$s) || exit 1; \
	  done; \
	done

# make test's Molecule part: every scenario on bookworm, and diagnose + modules on bullseye
# (Postfix 3.5) and trixie (3.10), in two lanes at once (tests/molecule/lanes.sh). A scenario
# name stays in one lane (one Molecule state directory and one set of container names each).
# The whole matrix, every scenario on every suite: make matrix MATRIX_SCENARIOS="$(SCENARIOS)".
# Balanced by the times measured with both lanes running (2026-11-29, s; the containers reached
# through nsenter, base.yml): remediate 535 + diagnose 288/290/295 + lab 134 | rollout 398 +
# ssh 612 + demo 365 + modules 133/115/105. About 7 min of setup, lint, sanity and unit first;
# make test took 33.5 min in all. metrics (issue 33) took 281 s beside one other scenario
# (2026-12-06): lane A about 1820 s, lane B about 1730 s.
LANE_A ?= remediate:bookworm diagnose:bookworm diagnose:bullseye diagnose:trixie lab:bookworm metrics:bookworm
LANE_B ?= rollout:bookworm ssh:bookworm demo:bookworm modules:bookworm modules:bullseye modules:trixie
images: system-deps
	for suite in bookworm $(MATRIX_SUITES); do lab/build-image.sh $$suite; done

test-molecule: setup images
	tests/molecule/lanes.sh "$(LANE_A)" "$(LANE_B)"

test: setup lint sanity unit test-molecule
	@echo "make test: all green (scenario times: .cache/test-times.log)"

# docs/faults.md from the catalog (tests/unit/test_docs.py fails when it is stale).
docs:
	$(PYTHON) docs/render_faults.py > docs/faults.md

# The collection postfix_remedy.toolkit (galaxy.yml): library/ and module_utils/ staged as
# plugins/modules and plugins/module_utils, built into dist/.
# COLLECTION_DIR and DIST can point elsewhere (tests/unit/test_papercuts.py builds into a scratch directory).
# The lab stays here, and so does docs/render_faults.py (it reads module_utils/, which a collection has not).
COLLECTION_DIR ?= $(CURDIR)/.cache/collection
DIST ?= dist
STAGE := $(COLLECTION_DIR)/ansible_collections/postfix_remedy/toolkit
collection: venv
	rm -rf $(COLLECTION_DIR) $(DIST) && mkdir -p $(STAGE)/plugins $(DIST)
	cp -a galaxy.yml README.md CHANGELOG.md LICENSE meta playbooks roles docs $(STAGE)/
	cp -a library $(STAGE)/plugins/modules
	cp -a module_utils $(STAGE)/plugins/module_utils
	rm -rf $(STAGE)/roles/lab_* $(STAGE)/playbooks/lab.yml $(STAGE)/playbooks/demo.yml $(STAGE)/docs/render_faults.py
	find $(STAGE) -name __pycache__ -prune -exec rm -rf {} +
	$(BIN)/ansible-galaxy collection build --output-path $(DIST) $(STAGE)

# ansible-test sanity on the built collection (a git tree, as ansible-test wants). Its per-test
# venvs need pip from a bootstrap script on ci-files.testing.ansible.com, which this machine cannot
# reach: tests/sanity/get_pip.py stands in for it, next to the pip wheel downloaded from PyPI.
# HOME is kept under .cache so the venvs and the cache stay in the project.
SANITY_HOME := $(CURDIR)/.cache/sanity-home
SANITY_PIP := 24.2
sanity: collection
	mkdir -p $(SANITY_HOME)/.ansible/test/cache
	[ -n "$$(ls $(SANITY_HOME)/.ansible/test/cache/pip-$(SANITY_PIP)-*.whl 2>/dev/null)" ] || \
	  $(BIN)/pip download -q --no-deps --only-binary=:all: -d $(SANITY_HOME)/.ansible/test/cache pip==$(SANITY_PIP)
	cp tests/sanity/get_pip.py $(SANITY_HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(SANITY_PIP)).py
	cd $(STAGE) && git init -q && git add -A && \
	  git -c user.email=ci@localhost -c user.name=ci commit -qm "collection as built" && \
	  HOME=$(SANITY_HOME) $(BIN)/ansible-test sanity --local --python $$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	@echo "ansible-test sanity: clean"

lab: setup
	$(BIN)/ansible-playbook playbooks/lab.yml -e lab_fleet_size=$(N) -e lab_fleet_suite=$(SUITE)

lab-down: venv
	$(BIN)/ansible-playbook playbooks/lab.yml -e lab_fleet_state=absent

demo: lab
	$(BIN)/ansible-playbook playbooks/demo.yml

bench: setup
	$(BIN)/python -m tests.bench.run_all $(if $(BENCH),--only $(BENCH)) $(if $(LOG_MB),--log-mb $(LOG_MB))

clean: lab-down
	rm -rf $(VENV) reports dist .cache
