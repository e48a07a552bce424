"""Where a plan came from: the tool, the libraries and the time it was made, recorded with the plan.

`rrplan solve --out DIR` writes this as the `provenance` entry of `summary.json` (whose other
entries already name the dataset and its SHA-256, the scenario, the rule, the solver and its
figures), so a report re-made from the folder months later, or from the run store, still says
which program made the plan and when. Nothing here reads the clock unless `made_at` is left out.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata

from planner.core import __version__

TOOL_NAME = "rrplan"
LIBRARIES = ("pandas", "numpy", "networkx", "pulp", "highspy")  # the ones whose behaviour shapes a plan


def utc_timestamp(moment: datetime | None = None) -> str:
    """`2026-11-30T10:07:09Z`: a moment in UTC to the second (now if None); naive moments are taken as UTC."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """The inverse of `utc_timestamp` (raises ValueError on anything else)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that compute a plan ("not installed" if absent)."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_provenance(made_at: datetime | None = None) -> dict:
    """The JSON-ready provenance of a plan made now (or at `made_at`): tool, version, Python, libraries."""
    return {
        "tool": TOOL_NAME,
        "tool_version": __version__,
        "made_at": utc_timestamp(made_at),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }
