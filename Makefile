# The two commands of the README: `make demo` (the month's reports on the sample data) and `make test`.
# Both create .venv and install the locked versions (requirements.lock) on first use and whenever the lock changes.
# `make lock` refreshes the lock to the newest releases pyproject.toml allows; run `make test` after it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements.lock
UV     := uv==0.13.9

.PHONY: demo test install lint lock clean

$(BIN)/qa: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "$(UV)"
	$(BIN)/uv pip sync -q --python $(BIN)/python --require-hashes $(LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(BIN)/qa

install: $(BIN)/qa

demo: install
	$(BIN)/qa demo

lint: install
	$(BIN)/ruff check
	$(BIN)/lint-imports --no-cache --no-logo

test: lint
	$(BIN)/python -m pytest -q -rs -n auto --durations=15

lock: install
	$(BIN)/uv pip compile -q pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes --upgrade \
	  --custom-compile-command "make lock" -o $(LOCK)

# Generated things only: never the database (data/qa.sqlite may hold inspectors' work) nor the notebooks in lab/.
clean:
	rm -rf $(VENV) reports/20* reports/digest
