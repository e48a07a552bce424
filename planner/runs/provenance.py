"""Where a plan came from: the tool and its git commit, the libraries, and when it was solved and written.

`rrplan solve --out DIR` writes this as the `provenance` entry of `summary.json` (whose other
entries already name the dataset and its SHA-256, the scenario, the rule, the solver and its
figures), so a report re-made from the folder months later, or from the run store, still says
which program made the plan and when. `solved_at` is when the plan was solved (a Plan records it);
`made_at` is when the files were written. The git commit is read from the checkout's `.git` files
without running git, and is None outside a checkout. Nothing here reads the clock unless `made_at`
is left out.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from planner.core import __version__

TOOL_NAME = "rrplan"
CHECKOUT = Path(__file__).resolve().parents[2]  # the folder holding planner/ (a git checkout when developing)
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


def git_commit(checkout: Path = CHECKOUT) -> str | None:
    """The commit checked out at `checkout` (40 hex digits), read from `.git` without running git; else None.

    Handles a plain checkout (`.git` folder) and a worktree (`.git` file naming its git folder, whose
    `commondir` holds the branches), loose refs and packed-refs.
    """
    try:
        dot_git = checkout / ".git"
        if dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8").strip()
            if not text.startswith("gitdir:"):
                return None
            git_dir = (checkout / text.split(":", 1)[1].strip()).resolve()
        elif dot_git.is_dir():
            git_dir = dot_git
        else:
            return None
        common = git_dir
        if (git_dir / "commondir").is_file():
            common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref:"):
            return head if _is_commit(head) else None
        ref = head.split(":", 1)[1].strip()
        for folder in (git_dir, common):
            if (folder / ref).is_file():
                commit = (folder / ref).read_text(encoding="utf-8").strip()
                return commit if _is_commit(commit) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref and _is_commit(parts[0]):
                    return parts[0]
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _is_commit(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text.lower())


def run_provenance(made_at: datetime | None = None, solved_at: str | None = None) -> dict:
    """The JSON-ready provenance of a plan written now (or at `made_at`): tool, version, commit, Python, libraries.

    `solved_at` is when the plan was solved (`Plan.solved_at`); None leaves it out (an old run).
    """
    return {
        "tool": TOOL_NAME,
        "tool_version": __version__,
        "git_commit": git_commit(),
        **({"solved_at": solved_at} if solved_at else {}),
        "made_at": utc_timestamp(made_at),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }
