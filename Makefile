# The two commands of the README: `make demo` (the month's reports on the sample data) and `make test`.
# Both create .venv and install the project on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/qa: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -e '.[test]' || $(BIN)/python -m pip install -e '.[test]'
	touch $(BIN)/qa

install: $(BIN)/qa

demo: install
	$(BIN)/qa demo

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) data/*.sqlite data/*.sqlite-* reports/20*
