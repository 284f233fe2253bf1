# steppe: `make run` serves the embedded shape, `make test` runs the whole suite,
# `make integration` runs the AWS shape against a standalone moto server.
# Both create the environment first when it is missing or stale.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
STAMP  := $(VENV)/.synced-$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYTEST_WORKERS ?= auto
# checkov runs in a tool environment of its own: locking it with the project
# would pull urllib3 back to 1.26 for the Lambda layer too (uv.lock is one
# resolution for runtime and dev).
CHECKOV_VERSION ?= 3.2.459
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test integration bench lint env clean browser console-vendor

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) sync --frozen --python $(abspath $(BIN))/python
	@rm -f $(VENV)/.synced-* && touch $@

env: $(STAMP)

run: $(STAMP)
	$(BIN)/steppe serve

# The console's browser tests and bench drive Debian's Chromium (never a downloaded browser).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

# The AWS shape end to end over HTTP: tests_integration/run_moto.py starts moto_server
# on a free port, runs tests_integration/ against it and stops it, pass or fail.
integration: $(STAMP)
	$(BIN)/python tests_integration/run_moto.py -q

bench: $(STAMP) browser
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check functions tests tests_integration bench
	$(BIN)/ruff format --check functions tests tests_integration bench
	$(BIN)/cfn-lint template.yaml
	$(UV) tool run --from checkov==$(CHECKOV_VERSION) checkov --quiet --compact --skip-download \
		--framework cloudformation --file template.yaml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The console's vendored JavaScript, from console/package-lock.json: the copies in
# functions/steppe/console/static/vendor/ are committed (no build step for users).
CONSOLE_VENDOR := functions/steppe/console/static/vendor
console-vendor:
	cd console && npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(CONSOLE_VENDOR)
	cp console/node_modules/cytoscape/dist/cytoscape.min.js $(CONSOLE_VENDOR)/cytoscape.min.js
	cp console/node_modules/cytoscape/LICENSE $(CONSOLE_VENDOR)/LICENSE-cytoscape

# --- sam build (template.yaml: Metadata BuildMethod makefile) -------------------
# SAM runs `make build-<LogicalId>` with ARTIFACTS_DIR set. Each function ships
# the steppe package with stix_templates/ inside it (where the wheel puts them);
# the layer ships the locked third-party dependencies for python3.12 on arm64.
LAMBDA_PLATFORM ?= aarch64-manylinux2014
LAMBDA_PYTHON   ?= 3.12
LAYER_UV        ?= $(shell command -v uv 2>/dev/null || echo $(UV))
# Both ship bytecode compiled by Lambda's Python: a cold start then loads it
# instead of compiling every module. unchecked-hash .pyc files carry no source
# timestamp, so they stay valid whatever copies SAM makes, and cost no check.
# The first interpreter of that version that runs (a pyenv shim may not), else uv's.
LAMBDA_COMPILER ?= $(shell for c in python$(LAMBDA_PYTHON) $$HOME/.pyenv/versions/$(LAMBDA_PYTHON)*/bin/python$(LAMBDA_PYTHON); do "$$c" -c pass >/dev/null 2>&1 && { echo "$$c"; exit 0; }; done; echo "$(abspath $(UV)) run --no-project --python $(LAMBDA_PYTHON) python")
COMPILE_BYTECODE = $(LAMBDA_COMPILER) -m compileall -q -j 0 --invalidation-mode unchecked-hash

.PHONY: build-ApiFunction build-WorkerFunction build-AuthorizerFunction build-TaxiiFunction build-DependenciesLayer

build-ApiFunction build-WorkerFunction build-AuthorizerFunction build-TaxiiFunction:
	mkdir -p "$(ARTIFACTS_DIR)"
	rm -rf "$(ARTIFACTS_DIR)/steppe"
	cp -R functions/steppe "$(ARTIFACTS_DIR)/steppe"
	find "$(ARTIFACTS_DIR)/steppe" -name __pycache__ -type d -prune -exec rm -rf {} +
	mkdir -p "$(ARTIFACTS_DIR)/steppe/stix_templates"
	cp stix_templates/*.yaml "$(ARTIFACTS_DIR)/steppe/stix_templates/"
	$(COMPILE_BYTECODE) "$(ARTIFACTS_DIR)/steppe"

build-DependenciesLayer:
	mkdir -p "$(ARTIFACTS_DIR)/python"
	$(LAYER_UV) export --frozen --no-dev --no-emit-project --no-hashes --quiet \
		--output-file "$(ARTIFACTS_DIR)/requirements.txt"
	$(LAYER_UV) pip install --quiet -r "$(ARTIFACTS_DIR)/requirements.txt" \
		--target "$(ARTIFACTS_DIR)/python" --python-platform $(LAMBDA_PLATFORM) \
		--python-version $(LAMBDA_PYTHON) --only-binary :all:
	rm -f "$(ARTIFACTS_DIR)/requirements.txt"
	$(COMPILE_BYTECODE) "$(ARTIFACTS_DIR)/python"
