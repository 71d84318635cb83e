# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# The functions run python3.13 (template.yaml), so everything here does too. PYTHON is the first
# real 3.13 found: python3.13 on PATH (a user's machine), else pyenv's 3.13 (whose shim on PATH
# refuses to run unless pyenv is told the version). Override with `make PYTHON=/path/to/python3.13`.
ifndef PYTHON
PYTHON := $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && \
	{ "$$p" -c 'import sys; print(sys.executable)'; break; }; done)
endif
ifeq ($(PYTHON),)
$(error Python 3.13 not found: install it (python3.13 on PATH) or pass PYTHON=/path/to/python3.13)
endif
# `sam build` looks for the runtime's interpreter by name (python3.13) on PATH.
export PATH := $(dir $(PYTHON)):$(PATH)
VENV := .venv
TOOLS := .venv-tools
CHECKOV := .venv-checkov
# Written when `make build` completes: tests/build rebuilds when anything the package is made of is newer.
BUILT := .aws-sam/build/.made-by-make-build
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help run serve test lint typecheck validate checkov build bench killprobe schema sandbox browser inbox-png clean

$(VENV)/.ok: pyproject.toml requirements-dev.txt src/requirements.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(TOOLS)/.ok: requirements-tools.txt
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check -r requirements-tools.txt
	touch $@

$(CHECKOV)/.ok: requirements-checkov.txt
	rm -rf $(CHECKOV)
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

help:  ## list the targets (this)
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | \
		awk -F '\t' '{ printf "  make %-10s %s\n", $$1, $$2 }'
	@echo 'serve takes options: make serve OPTS="--poll-every 5 --aws-port 8460" (all: make serve OPTS=--help)'
	@echo 'run and serve take the provider from the environment: PROVIDER=solapi make run (default: template.yaml'"'"'s Provider)'

run: $(VENV)/.ok  ## the main job, locally: embedded AWS + sandbox, sample events, final table
	$(PY) -m devstack.run

serve: $(VENV)/.ok  ## dev server: the local stack on fixed ports for a producer you are writing; Ctrl-C stops it
	$(PY) -m devstack.serve $(OPTS)

sandbox: $(VENV)/.ok  ## the provider sandbox alone
	$(PY) -m devstack.sandbox

test: $(VENV)/.ok $(TOOLS)/.ok browser lint typecheck validate checkov  ## the whole suite
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(VENV)/.ok  ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.ok  ## mypy --strict on src/notifier, mypy on devstack and notifier_cli
	$(VENV)/bin/mypy --strict src/notifier && $(VENV)/bin/mypy devstack notifier_cli

validate: $(TOOLS)/.ok  ## sam validate --lint works offline, no credentials
	AWS_DEFAULT_REGION=ap-northeast-2 $(TOOLS)/bin/sam validate --lint --template template.yaml

# Both the template as written and its translation (the roles, mappings and rules SAM generates).
# A finding is fixed, or skipped in the template's Metadata with its reason (checkov prints them).
checkov: $(VENV)/.ok $(CHECKOV)/.ok  ## checkov on template.yaml and on the samtranslator output
	$(PY) -m devstack.translate --out .aws-sam/translated.json
	$(CHECKOV)/bin/checkov --skip-download --quiet --compact --framework cloudformation \
		-f template.yaml -f .aws-sam/translated.json

build: $(TOOLS)/.ok  ## sam build, then prune and precompile: Lambda cannot write .pyc, so shipping them saves cold start
	rm -f $(BUILT)
	$(TOOLS)/bin/sam build --template template.yaml
	# what the runtime provides (botocore, which aws-xray-sdk requires) would shadow the runtime's own
	$(TOOLS)/bin/python devstack/prune_package.py .aws-sam/build/*/
	# unchecked-hash: the deployment zip rounds file times, which would invalidate mtime-checked .pyc files
	for d in .aws-sam/build/*/; do $(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$$d" || exit 1; done
	touch $(BUILT)

bench: $(VENV)/.ok  ## prints figures and ratios; never a pass/fail test
	$(PY) -m devstack.bench

killprobe: $(VENV)/.ok  ## SIGKILLs dispatcher processes at random; prints how many `unknown` never reached the provider
	$(PY) -m devstack.killprobe $(OPTS)

schema: $(VENV)/.ok  ## regenerate the event JSON Schema
	$(PY) -m notifier.domain.event > schema/event.schema.json

# The inbox page's browser test drives Debian's chromium (Playwright's own browser download is not
# reachable), with CJK fonts so Hangul renders in screenshots. Installed only when absent.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:  ## install Debian's chromium and CJK fonts when absent (the inbox page's browser test)
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -q 'Noto Sans CJK'; then :; \
	elif command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
	else echo "make browser: no apt-get here; install Chromium at /usr/bin/chromium (or set CHROMIUM=/path) for the inbox page's test"; fi

inbox-png: $(VENV)/.ok browser  ## regenerate docs/inbox.png: the sandbox inbox page after the sample events
	$(PY) -m devstack.inbox_demo --out docs/inbox.png

clean:  ## remove the environments and caches
	rm -rf $(VENV) $(TOOLS) $(CHECKOV) .venv-build-test .venv-solapi-sdk .aws-sam .pytest_cache .ruff_cache .hypothesis
