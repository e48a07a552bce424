"""The funding-scenarios notebook runs top to bottom, so it never rots."""

from __future__ import annotations

import time

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "funding_scenarios.ipynb"


def test_the_funding_notebook_runs_and_shows_its_curve():
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    began = time.perf_counter()
    nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    seconds = time.perf_counter() - began
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "10 scenarios: 10 solved, 0 reused, 0 failed" in text
    assert "second time: 0 solved, 10 read from the store" in text
    assert any("image/png" in o.get("data", {}) for o in outputs if o.output_type == "display_data")
    assert seconds < 120, f"the notebook took {seconds:.0f} s; keep it well under a minute"
