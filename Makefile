# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test lint typecheck validate build bench schema sandbox clean

$(VENV)/.ok: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(TOOLS)/.ok: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check -r requirements-tools.txt
	touch $@

run: $(VENV)/.ok  ## the main job, locally: embedded AWS + sandbox, sample events, final table
	$(PY) -m devstack.run

serve: $(VENV)/.ok  ## keep the local stack up for an application under development
	$(PY) -m devstack.serve

sandbox: $(VENV)/.ok  ## the provider sandbox alone
	$(PY) -m devstack.sandbox

test: $(VENV)/.ok $(TOOLS)/.ok lint typecheck validate  ## the whole suite
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(VENV)/.ok
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.ok
	$(VENV)/bin/mypy src/notifier

validate: $(TOOLS)/.ok  ## sam validate --lint works offline, no credentials
	AWS_DEFAULT_REGION=ap-northeast-2 $(TOOLS)/bin/sam validate --lint --template template.yaml

build: $(TOOLS)/.ok  ## sam build, then precompile: Lambda cannot write .pyc, so shipping them saves cold start
	$(TOOLS)/bin/sam build --template template.yaml
	# unchecked-hash: the deployment zip rounds file times, which would invalidate mtime-checked .pyc files
	for d in .aws-sam/build/*/; do $(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$$d"; done

bench: $(VENV)/.ok  ## prints figures and ratios; never a pass/fail test
	$(PY) -m devstack.bench

schema: $(VENV)/.ok  ## regenerate the event JSON Schema
	$(PY) -m notifier.domain.event > schema/event.schema.json

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .ruff_cache .hypothesis
