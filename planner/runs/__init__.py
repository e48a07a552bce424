"""Runs: the run-folder format (written and read back), provenance, the run store, sweeps and Monte Carlo."""
