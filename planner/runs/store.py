"""The run store: every solved scenario recorded in one SQLite file, so nothing is solved twice.

A run is keyed by its inputs checksum,

    inputs_sha256 = sha256(dataset sha256 + "\\n" + canonical scenario JSON)

where the canonical JSON has sorted keys and leaves out the scenario's `name` (a label,
which does not change the plan). A run is reused only if, besides the same inputs, it
was made by the same planner code (`code_sha256`, a checksum of the package's source less
the modules that only present or store results), so a fix to the engine never serves
stale plans.

Each run row holds the scenario, the status, the headline figures (`summary.json`) and
the output files (`schedule.csv`, `carriers.csv`, `monthly.csv`, zlib-compressed). A run
is written in one transaction: a process killed half-way leaves the store as it was
before that run. The schema carries a version (table `meta`); a store written by a
newer schema is refused rather than misread.

Default path: `runs/rrplan.sqlite` under the working folder, or the environment
variable RRPLAN_STORE.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import sqlite3
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd

from planner.analysis.reports import json_ready
from planner.core.errors import PlannerError
from planner.core.schema import Dataset, Scenario
from planner.engine.solve import SOLVER_NAME
from planner.inputs.tables import dataset_tables
from planner.runs.folder import write_run_files
from planner.runs.provenance import library_versions

SCHEMA_VERSION = 1
APPLICATION_ID = 0x72727031  # "rrp1" in the SQLite header (PRAGMA application_id): tells our stores from others
ONE_RUN_PER_INPUTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS one_run_per_inputs ON runs (inputs_sha256, code_sha256) WHERE status != 'failed'"
)
DEFAULT_STORE_PATH = Path("runs") / "rrplan.sqlite"
STORE_ENVIRONMENT_VARIABLE = "RRPLAN_STORE"
HEADLINE_FIGURES = (
    "objective",
    "gap",
    "sites_replaced",
    "carriers_done_by_deadline",
    "population_left_without_service",
    "exposure_population_months",
    "allocated_usd",
    "wall_seconds",
)
CARRIER_FIGURES = (
    "allocation_usd",
    "sites_replaced",
    "completion_period",
    "on_time",
    "population_left_without_service",
)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_utc TEXT NOT NULL,
    source TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    dataset_sha256 TEXT NOT NULL,
    scenario_name TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    inputs_sha256 TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    summary_json TEXT NOT NULL DEFAULT '{}',
    fund_usd REAL NOT NULL,
    rule TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    effective_deadline INTEGER NOT NULL
);
CREATE INDEX runs_by_inputs ON runs (inputs_sha256, code_sha256, status);
CREATE UNIQUE INDEX IF NOT EXISTS one_run_per_inputs ON runs (inputs_sha256, code_sha256) WHERE status != 'failed';
CREATE TABLE run_files (
    run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_zlib BLOB NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""


class StoreError(PlannerError):
    """The run store cannot be used: unknown run, newer schema, or a file that is not a store."""


def default_store_path() -> Path:
    """RRPLAN_STORE if set, else runs/rrplan.sqlite under the working folder."""
    return Path(os.environ.get(STORE_ENVIRONMENT_VARIABLE) or DEFAULT_STORE_PATH)


def dataset_checksum(dataset: Dataset) -> str:
    """The dataset's file checksum, or for a dataset built in memory, the checksum of its CSV text."""
    if dataset.sha256:
        return dataset.sha256
    digest = hashlib.sha256()
    for name, text in sorted(dataset_tables(dataset).items()):
        digest.update(name.encode())
        digest.update(text.encode())
    return digest.hexdigest()


def canonical_scenario_json(scenario: Scenario) -> str:
    """The scenario's values as JSON with sorted keys and floats as floats; the label `name` is left out."""
    values = scenario.to_dict()
    values.pop("name", None)
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def inputs_checksum(dataset: Dataset, scenario: Scenario) -> str:
    payload = dataset_checksum(dataset) + "\n" + canonical_scenario_json(scenario)
    return hashlib.sha256(payload.encode()).hexdigest()


# What makes a stored run's files: the layers below this one, and the run-folder format. The store itself,
# sweeps, presentation and the command line do not change a plan, so editing them keeps stored runs reusable.
PLAN_MAKING_LAYERS = ("core", "inputs", "model", "engine", "analysis")
PLAN_MAKING_MODULES = ("runs/folder.py", "runs/provenance.py")


@lru_cache(maxsize=1)
def code_checksum() -> str:
    """Checksum of the source and library versions that make plans: results of other code are not reused.

    A run is reused only when the planner source of the plan-making layers and the versions of the
    libraries that shape a plan (the solver above all) are the same as when it was solved.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in PLAN_MAKING_LAYERS or relative in PLAN_MAKING_MODULES:
            digest.update(relative.encode())
            digest.update(path.read_bytes())
    for library, version in sorted(library_versions().items()):
        digest.update(f"{library}=={version}".encode())
    digest.update(SOLVER_NAME.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class RunRecord:
    """One stored run: what went in, what came out (files are read on demand)."""

    run_id: int
    created_utc: str
    source: str
    dataset_name: str
    dataset_sha256: str
    scenario: dict
    inputs_sha256: str
    code_sha256: str
    status: str  # optimal | feasible | heuristic | failed
    error: str
    summary: dict

    @property
    def succeeded(self) -> bool:
        return self.status != "failed"

    @property
    def scenario_name(self) -> str:
        return str(self.scenario.get("name", ""))

    def headline(self) -> dict:
        """The figures a curve or a listing shows (None for a failed run)."""
        return {key: self.summary.get(key) for key in HEADLINE_FIGURES}


def _store_errors(method):
    """sqlite3's errors (a damaged page, a locked or vanished file) as StoreError naming the store."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as err:
            raise StoreError(
                f"{self.path}: the run store cannot be used ({err}); move it aside to start a new one"
            ) from None

    return guarded


class RunStore:
    """An SQLite file of runs. One writer at a time (SQLite locks); readers never see half a run."""

    def __init__(self, path: str | Path | None = None, timeout_s: float = 30.0):
        """Open (or create) a store. A file that is not ours is refused before anything is written to it.

        The store is a convenience: a foreign SQLite file given as the store is never modified (its
        header and tables are read first, without SQLite writing a byte; only then journal_mode and
        application_id are set), a read-only file is opened for reading only (`read_only`; saving
        raises StoreError), and a damaged file raises StoreError from any method, never sqlite3's.
        """
        self.path = Path(path) if path is not None else default_store_path()
        self.read_only = False
        self._connection = None
        existed = self.path.exists() and self.path.stat().st_size > 0
        if existed:
            self._refuse_foreign()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.read_only = existed and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))
        try:
            if self.read_only:
                self._connection = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s, isolation_level=None
                )
                self._check_version()
                return
            self._connection = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")  # readers go on while a sweep writes
            self._ensure_schema()
        except sqlite3.DatabaseError as err:
            self.close()
            raise StoreError(f"{self.path}: not a usable run store ({err}); move it aside to start a new one") from None

    # --- set-up ------------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        """The open connection (a closed store has none)."""
        if self._connection is None:
            raise StoreError(f"{self.path}: the run store is closed")
        return self._connection

    def _refuse_foreign(self) -> None:
        """Raise StoreError unless the file is an rrplan store (or an empty SQLite file); writes nothing.

        The SQLite header says it all for stores made since application_id was set: bytes 0-15 are
        "SQLite format 3", bytes 68-71 the application id. An older store of ours has id 0 and our tables.
        """
        with open(self.path, "rb") as stream:
            header = stream.read(100)
        if not header.startswith(b"SQLite format 3\x00"):
            raise StoreError(f"{self.path}: not an SQLite file, so not an rrplan run store; it was left untouched")
        application_id = int.from_bytes(header[68:72], "big")
        if application_id == APPLICATION_ID:
            return
        if application_id != 0:
            raise StoreError(
                f"{self.path}: an SQLite file of another application (application_id "
                f"{application_id:#x}), not an rrplan run store; it was left untouched"
            )
        try:
            look = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                tables = {row[0] for row in look.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                look.close()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: not a usable run store ({err}); it was left untouched") from None
        if tables - {"sqlite_sequence"} and not {"meta", "runs", "run_files"} <= tables:
            raise StoreError(f"{self.path}: an SQLite file that is not an rrplan run store; it was left untouched")

    def _ensure_schema(self) -> None:
        with self._transaction():  # two processes opening a new store at once: one creates, one waits
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "meta" not in tables:
                if tables - {"sqlite_sequence"}:
                    raise StoreError(f"{self.path}: an SQLite file that is not an rrplan run store")
                self._create_schema()
                return
        self._check_version()
        if self._db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # a store made before it was set
        try:  # stores made before the index: add it, unless they already hold duplicates
            self._db.execute(ONE_RUN_PER_INPUTS)
        except sqlite3.IntegrityError:
            pass

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer rrplan (store schema {version}, this version reads "
                f"up to {SCHEMA_VERSION}); upgrade rrplan or use another store (RRPLAN_STORE)"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema {version} is older than {SCHEMA_VERSION} and cannot be "
                "migrated; move the file aside to start a new store"
            )

    def _create_schema(self) -> None:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def _transaction(self):
        return _Transaction(self._db)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------

    @_store_errors
    def save(
        self, dataset: Dataset, scenario: Scenario, summary: dict, files: Mapping[str, str | bytes], source: str = "cli"
    ) -> RunRecord:
        """Record a solved run and its output files in one transaction; return the record."""
        return self._insert(dataset, scenario, str(summary.get("status", "feasible")), "", summary, files, source)

    @_store_errors
    def save_failure(self, dataset: Dataset, scenario: Scenario, error: str, source: str = "cli") -> RunRecord:
        """Record a run that gave no plan, with the reason. Failed runs are tried again, never reused."""
        return self._insert(dataset, scenario, "failed", error, {}, {}, source)

    def _insert(self, dataset, scenario, status, error, summary, files, source) -> RunRecord:
        if self.read_only:
            raise StoreError(f"{self.path}: the run store is read-only; the run was not recorded")
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        scenario_json = json.dumps(scenario.to_dict(), sort_keys=True)
        inputs, code = inputs_checksum(dataset, scenario), code_checksum()
        with self._transaction():  # BEGIN IMMEDIATE: one writer at a time, so the look and the insert are one step
            if status != "failed":
                same = self._db.execute(
                    "SELECT run_id FROM runs WHERE inputs_sha256 = ? AND code_sha256 = ? AND status != 'failed'",
                    (inputs, code),
                ).fetchone()
                if same is not None:  # solved at the same time by another process: one run, not two
                    return self.get(same[0])
            cursor = self._db.execute(
                "INSERT INTO runs (created_utc, source, dataset_name, dataset_sha256, scenario_name, scenario_json, "
                "inputs_sha256, code_sha256, status, error, summary_json, "
                "fund_usd, rule, deadline, effective_deadline) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created,
                    source,
                    dataset.name,
                    dataset_checksum(dataset),
                    scenario.name,
                    scenario_json,
                    inputs,
                    code,
                    status,
                    error,
                    json.dumps(json_ready(summary)),
                    scenario.fund_usd,
                    scenario.rule,
                    scenario.deadline,
                    scenario.effective_deadline,
                ),
            )
            run_id = cursor.lastrowid
            if run_id is None:  # sqlite3 sets it after every successful INSERT
                raise StoreError(f"{self.path}: the run was not recorded")
            for name, content in files.items():
                data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
                self._db.execute(
                    "INSERT INTO run_files (run_id, name, content_zlib) VALUES (?, ?, ?)",
                    (run_id, name, zlib.compress(data, 6)),
                )
        return self.get(run_id)

    # --- reading -----------------------------------------------------------------------------

    @_store_errors
    def find(self, dataset: Dataset, scenario: Scenario) -> RunRecord | None:
        """The latest successful run of the same inputs made by the same code, if any."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM runs WHERE inputs_sha256 = ? AND code_sha256 = ? AND status != 'failed' "
            "ORDER BY run_id DESC LIMIT 1",
            (inputs_checksum(dataset, scenario), code_checksum()),
        ).fetchone()
        return None if row is None else _record(row)

    @_store_errors
    def get(self, run_id: int) -> RunRecord:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no run #{run_id}; `rrplan runs` lists the stored runs")
        return _record(row)

    @_store_errors
    def runs(self) -> list[RunRecord]:
        """Every stored run, oldest first."""
        return [_record(row) for row in self._db.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY run_id")]

    def runs_table(self) -> pd.DataFrame:
        """One row per run: id, time, dataset, scenario, status and headline figures."""
        rows = []
        for record in self.runs():
            rows.append(
                {
                    "run_id": record.run_id,
                    "created_utc": record.created_utc,
                    "source": record.source,
                    "dataset": record.dataset_name,
                    "scenario": record.scenario_name,
                    "fund_usd": record.scenario.get("fund_usd"),
                    "rule": record.scenario.get("rule"),
                    "deadline": record.scenario.get("deadline"),
                    "extensions": record.scenario.get("extensions"),
                    "status": record.status,
                    **record.headline(),
                    "error": record.error,
                    "inputs_sha256": record.inputs_sha256,
                }
            )
        columns = [
            "run_id",
            "created_utc",
            "source",
            "dataset",
            "scenario",
            "fund_usd",
            "rule",
            "deadline",
            "extensions",
            "status",
            *HEADLINE_FIGURES,
            "error",
            "inputs_sha256",
        ]
        return pd.DataFrame(rows, columns=columns)

    @_store_errors
    def file_names(self, run_id: int) -> list[str]:
        return [
            row[0]
            for row in self._db.execute("SELECT name FROM run_files WHERE run_id = ? ORDER BY name", (int(run_id),))
        ]

    def files(self, run_id: int) -> dict[str, str]:
        """Every stored file of a run: name -> text."""
        return {name: self.file(run_id, name) for name in self.file_names(run_id)}

    @_store_errors
    def file(self, run_id: int, name: str) -> str:
        row = self._db.execute(
            "SELECT content_zlib FROM run_files WHERE run_id = ? AND name = ?", (int(run_id), name)
        ).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: run #{run_id} has no file {name}")
        return zlib.decompress(row[0]).decode("utf-8")

    def table(self, run_id: int, name: str) -> pd.DataFrame:
        """A stored CSV file as a DataFrame, e.g. `table(3, "carriers.csv")`."""
        return pd.read_csv(io.StringIO(self.file(run_id, name)), dtype={"carrier_id": str, "site_id": str})

    def write_files(self, run_id: int, folder: str | Path) -> Path:
        """Write a run's stored files into `folder`: the whole folder or nothing (`folder.write_run_files`)."""
        folder = Path(folder)
        write_run_files(self.files(run_id), folder)
        return folder


_COLUMNS = (
    "run_id, created_utc, source, dataset_name, dataset_sha256, scenario_json, inputs_sha256, code_sha256, "
    "status, error, summary_json"
)


def _record(row) -> RunRecord:
    (run_id, created, source, dataset_name, dataset_sha, scenario_json, inputs, code, status, error, summary) = row
    return RunRecord(
        run_id,
        created,
        source,
        dataset_name,
        dataset_sha,
        json.loads(scenario_json),
        inputs,
        code,
        status,
        error,
        json.loads(summary),
    )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: a run is stored whole or not at all."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind, value, traceback) -> None:
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")


# --- comparing two runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunDiff:
    """What changed between two runs: inputs, headline figures and each carrier's figures."""

    run_a: RunRecord
    run_b: RunRecord
    inputs: pd.DataFrame  # input, a, b (only inputs that differ)
    headline: pd.DataFrame  # figure, a, b, change
    carriers: pd.DataFrame  # carrier_id, then <figure>_a, <figure>_b, <figure>_change; `changed` flag


def diff_runs(store: RunStore, run_a: int, run_b: int) -> RunDiff:
    """Compare two stored runs: which inputs differ and how each carrier's figures moved (b - a)."""
    a, b = store.get(run_a), store.get(run_b)
    inputs: list[dict[str, object]] = []
    if a.dataset_sha256 != b.dataset_sha256:
        inputs.append(
            {
                "input": "dataset",
                "a": f"{a.dataset_name} ({a.dataset_sha256[:12]})",
                "b": f"{b.dataset_name} ({b.dataset_sha256[:12]})",
            }
        )
    for key in sorted(set(a.scenario) | set(b.scenario)):
        if a.scenario.get(key) != b.scenario.get(key):
            inputs.append({"input": key, "a": a.scenario.get(key), "b": b.scenario.get(key)})
    if a.code_sha256 != b.code_sha256:
        inputs.append({"input": "planner code", "a": a.code_sha256[:12], "b": b.code_sha256[:12]})
    headline = []
    for key in HEADLINE_FIGURES:
        va, vb = a.summary.get(key), b.summary.get(key)
        change = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        headline.append({"figure": key, "a": va, "b": vb, "change": change})
    return RunDiff(
        a,
        b,
        pd.DataFrame(inputs, columns=["input", "a", "b"]),
        pd.DataFrame(headline, columns=["figure", "a", "b", "change"]),
        _carrier_changes(store, a, b),
    )


def _carrier_changes(store: RunStore, a: RunRecord, b: RunRecord) -> pd.DataFrame:
    columns = ["carrier_id", *[f"{f}_{side}" for f in CARRIER_FIGURES for side in ("a", "b", "change")], "changed"]
    if not (a.succeeded and b.succeeded):
        return pd.DataFrame(columns=columns)
    left = store.table(a.run_id, "carriers.csv")[["carrier_id", *CARRIER_FIGURES]]
    right = store.table(b.run_id, "carriers.csv")[["carrier_id", *CARRIER_FIGURES]]
    merged = left.merge(right, on="carrier_id", how="outer", suffixes=("_a", "_b"), sort=True)
    changed = pd.Series(False, index=merged.index)
    for figure in CARRIER_FIGURES:
        before, after = merged[f"{figure}_a"], merged[f"{figure}_b"]
        if figure == "on_time":
            merged[f"{figure}_change"] = [None if x == y else f"{x} -> {y}" for x, y in zip(before, after, strict=True)]
            moved = before.astype(object).ne(after.astype(object))
        else:
            before, after = pd.to_numeric(before), pd.to_numeric(after)
            merged[f"{figure}_change"] = after - before
            moved = ~((before == after) | (before.isna() & after.isna()))
        changed |= moved
    merged["changed"] = changed
    return merged[columns]
