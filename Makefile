# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make run ADDRESS=0.0.0.0` shares the app on a network; by default only this machine reaches it.
ADDRESS ?= localhost

.PHONY: install run solve report test test-fast bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[app,reports,scale,test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/streamlit run app.py --server.address $(ADDRESS)

solve: install
	$(BIN)/rrplan solve datasets/rural40 --out runs/rural40-default

report: solve
	$(BIN)/rrplan report runs/rural40-default --format all

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# Benchmarks print their figures; none is a test. Run them on a quiet machine.
bench: install
	$(BIN)/python benchmarks/bench_rural40.py
	$(BIN)/python benchmarks/bench_rural40.py --psplib
	$(BIN)/python benchmarks/bench_formulation.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
