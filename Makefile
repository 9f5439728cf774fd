# Two set-up commands: `make demo` and `make test`. Both bootstrap .venv when it is missing
# or older than pyproject.toml, so a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Test processes (pytest-xdist): two, the CI machine's cores; `make test WORKERS=0` runs in one process.
WORKERS ?= 2

.PHONY: demo test fuzz bench lab venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/csat demo --out reports

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile tests
	$(BIN)/python -m pytest -q --doctest-modules -p no:cacheprovider csatlib
	$(BIN)/python -m pytest -q --nbval-lax -p no:cacheprovider notebooks/ csatlib/report/report.ipynb

# The property-based tests with many more random examples than `make test` runs (minutes to an hour).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_degenerate.py tests/test_robustness.py -k "degenerate_waves or contract or spec_loader"

bench: $(STAMP)
	$(BIN)/python bench/run.py --json bench/results.json

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) build *.egg-info
