# The two commands a newcomer types: `make run` and `make test`. Both set up .venv first;
# it is reinstalled only when pyproject.toml changes (the stamp file).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
REFERENCE_TOOLS := $(VENV)/reference-tools
KFP_SDK := $(VENV)/kfp-sdk
KSERVE_SDK := $(VENV)/kserve-sdk
DEMO := demo-workspace

.PHONY: run test lint quick-lint bench lock clean

# The console on ./demo-workspace. A new one runs the demo inside the console (about a minute:
# data, models, serving, four replayed weeks, the retrain loop), its screens following it;
# later runs just open it.
run: $(STAMP)
	$(BIN)/mlops demo --console --workspace $(DEMO)

# pytest-xdist runs the suite in parallel (tests/conftest.py keeps each test's workspace its
# own, so they never share one): three workers on two cores, since much of the suite waits on
# the processes it starts (measured: 8 min 43 s against 9 min 23 s with two). mypy, from a
# clean clone 40-50 s of one core, runs beside the suite, which leaves about that much idle
# (it kept both cores 187% busy); its verdict is printed after the tests' and fails `make test`
# as the tests do.
test: $(STAMP) quick-lint
	@$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & mypy=$$!; \
	$(BIN)/pytest -n 3 --dist worksteal --durations=20; tests=$$?; \
	wait $$mypy; types=$$?; echo "$(BIN)/mypy"; cat $(VENV)/mypy.log; \
	test $$tests -eq 0 && test $$types -eq 0

lint: $(STAMP) quick-lint
	$(BIN)/mypy

quick-lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The versions in requirements.lock, the ones the suite ran against, whichever installer: uv
# installs them in half a minute where pip takes minutes (measured: 31 s against about 2 min
# here); pip does it when uv cannot (no index uv can reach, say). Bytecode is compiled at
# install, as pip does: where PYTHONDONTWRITEBYTECODE is set, every `mlops` would otherwise
# compile MLflow and scikit-learn afresh (7.0 s against 2.4 s to import them here).
$(STAMP): pyproject.toml requirements.lock tests/reference-tools.txt tests/kfp-sdk.txt tests/kserve-sdk.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python \
		-r requirements.lock -e '.[test,dev]' \
		|| $(BIN)/python -m pip install --quiet -r requirements.lock -e '.[test,dev]'
	rm -rf $(REFERENCE_TOOLS)
	$(BIN)/uv pip install --quiet --no-deps --python $(BIN)/python --target $(REFERENCE_TOOLS) \
		-r tests/reference-tools.txt \
		|| $(BIN)/python -m pip install --quiet --no-deps --target $(REFERENCE_TOOLS) -r tests/reference-tools.txt
	rm -rf $(KFP_SDK)
	$(BIN)/uv pip install --quiet --no-deps --python $(BIN)/python --target $(KFP_SDK) -r tests/kfp-sdk.txt \
		|| $(BIN)/python -m pip install --quiet --no-deps --target $(KFP_SDK) -r tests/kfp-sdk.txt
	rm -rf $(KSERVE_SDK)
	$(BIN)/uv pip install --quiet --no-deps --python $(BIN)/python --target $(KSERVE_SDK) -r tests/kserve-sdk.txt \
		|| $(BIN)/python -m pip install --quiet --no-deps --target $(KSERVE_SDK) -r tests/kserve-sdk.txt
	@touch $(STAMP)

# After changing a dependency in pyproject.toml: the newest versions it allows, pinned.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev --python-version 3.11 \
		--no-annotate --custom-compile-command "make lock" --quiet -o requirements.lock

clean:
	rm -rf $(VENV) $(DEMO)
