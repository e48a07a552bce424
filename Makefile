# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make run ADDRESS=0.0.0.0` shares the app on a network; by default only this machine reaches it.
ADDRESS ?= localhost

# requirements.lock pins every package of every extra, with hashes; pyproject.toml keeps the ranges a
# library user installs from. The venv gets exactly the lock, then the project itself without dependencies.
LOCK_EXTRAS := --extra app --extra reports --extra scale --extra test --extra dev

.PHONY: install run solve report test test-fast check lock bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/streamlit run app.py --server.address $(ADDRESS)

solve: install
	$(BIN)/rrplan solve datasets/program126 --out runs/program126-default

report: solve
	$(BIN)/rrplan report runs/program126-default --format all

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# Lint, format and types; the settings are in pyproject.toml.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-resolve the lock from pyproject.toml (on Python 3.11); `make lock LOCK_FLAGS=--upgrade` takes the newest
# versions the ranges allow, otherwise pins that still fit are kept.
lock: install
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras $(LOCK_EXTRAS) $(LOCK_FLAGS) \
		-o requirements.lock pyproject.toml

# Benchmarks print their figures; none is a test. Run them on a quiet machine.
bench: install
	$(BIN)/python benchmarks/bench_rural40.py
	$(BIN)/python benchmarks/bench_rural40.py --fund 4.98e9
	$(BIN)/python benchmarks/bench_rural40.py --rule optimal
	$(BIN)/python benchmarks/bench_rural40.py --dataset program126
	$(BIN)/python benchmarks/bench_psplib.py
	$(BIN)/python benchmarks/bench_determinism.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_chains.py
	$(BIN)/python benchmarks/bench_formulation.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
