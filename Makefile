# The two commands: `make run` starts the gateway in sandbox mode, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck security bench venv clean screenshots client

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing marri-gateway and its development tools into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/marri-gateway sandbox $(RUN_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gateway adapters simulators
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# bandit on our code (asserts are for type narrowing, as in ruff's config); pip-audit on the
# installed dependencies, bounded: an unreachable vulnerability service is reported, not waited on.
security: $(STAMP)
	$(BIN)/bandit -q -s B101 -r gateway adapters
	@mkdir -p var; status=0; \
	timeout 120 $(BIN)/pip-audit --skip-editable --progress-spinner off >var/pip-audit.txt 2>&1 \
	  || status=$$?; \
	if [ $$status -eq 124 ]; then \
	  echo "pip-audit: NOT AUDITED - no answer from the vulnerability service within 120 s"; \
	elif grep -qE "Traceback|ConnectionError|Max retries" var/pip-audit.txt; then \
	  echo "pip-audit: NOT AUDITED - the vulnerability service could not be reached (var/pip-audit.txt)"; \
	elif [ $$status -ne 0 ]; then \
	  cat var/pip-audit.txt; echo "pip-audit: known vulnerabilities in dependencies"; exit 1; \
	elif grep -q "could not be audited" var/pip-audit.txt; then \
	  echo "pip-audit: no known vulnerabilities, but $$(grep -c 'could not be audited' var/pip-audit.txt) packages were NOT audited (no vulnerability data for them; see var/pip-audit.txt)"; \
	else \
	  echo "pip-audit: no known vulnerabilities"; \
	fi

test: $(STAMP) lint typecheck security
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The console's pictures in docs/img/, taken by its Chromium tests (docs/console.md shows them).
screenshots: $(STAMP)
	MARRI_UPDATE_SCREENSHOTS=1 timeout 900 $(BIN)/python -m pytest tests/console -m browser -q

# The Python client, generated from the OpenAPI document into clients/python/ (not committed).
client: $(STAMP)
	$(BIN)/python clients/python/build.py $(CLIENT_ARGS)

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (the HTTP load generator) ..."; \
	  (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1)) \
	  || echo "wrk could not be installed: the HTTP sections will record an error"; }
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
