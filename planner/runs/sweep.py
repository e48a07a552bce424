"""Sweeps: solve every combination of fund, rule and deadline, in parallel, resuming from the run store.

    run_sweep(dataset, sweep_scenarios(base, funds, rules, deadlines), out, store=RunStore())

Each scenario is one task. Tasks run in worker processes on this machine
(`concurrent.futures.ProcessPoolExecutor`, one solver process per task) or on a Dask
cluster (`scheduler="tcp://HOST:PORT"`, through `Client.get_executor`, the same
futures interface), or in this process when `workers=1`. Results come back to this
process, which alone writes: each run's folder (`planner.runs.folder.write_plan`), one store
transaction per run, and `curve.csv` after every run. So an interrupted sweep keeps
every finished run, and running it again solves only the rest. A scenario that raises
is reported as a `failed` row and does not stop the others (failed runs are tried again
on the next sweep).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from planner.core.errors import InputError, Issue, PlannerError, SolveError
from planner.core.files import write_atomic
from planner.core.schema import RULES, Dataset, Plan, Scenario
from planner.engine.planning import default_workers, plan
from planner.runs.folder import run_files, write_run_files
from planner.runs.provenance import run_provenance
from planner.runs.store import RunStore, StoreError, dataset_checksum

CURVE_COLUMNS = (
    "fund_usd",
    "rule",
    "deadline",
    "status",
    "gap",
    "carriers_done_by_deadline",
    "sites_replaced",
    "population_left_without_service",
    "exposure_population_months",
)
EXTRA_COLUMNS = ("extensions", "effective_deadline", "objective", "scenario", "run_id", "reused", "folder", "error")
PLAN_FILES = ("summary.json", "schedule.csv", "carriers.csv", "monthly.csv")
MAX_SWEEP_POINTS = 10_000  # a typo in a range should not queue a million solves

Result = TypeVar("Result")
SweepProgress = Callable[[int, int, str, str], None]  # (done, total, scenario name, status)


# --- parsing the grid ------------------------------------------------------------------------


def parse_funds(text: str, flag: str = "--fund") -> tuple[float, ...]:
    """`START:STOP:COUNT` (COUNT evenly spaced values, both ends included) or a comma list, in USD."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise InputError(
                [Issue(flag, None, None, "bad-range", text, "a range is START:STOP:COUNT, e.g. 0.5e9:6e9:12")]
            )
        start, stop = (_number(p, flag, text) for p in parts[:2])
        count = _number(parts[2], flag, text)
        if count != int(count) or not 1 <= count <= MAX_SWEEP_POINTS:
            raise InputError(
                [
                    Issue(
                        flag,
                        None,
                        None,
                        "bad-range",
                        text,
                        f"COUNT must be a whole number from 1 to {MAX_SWEEP_POINTS}",
                    )
                ]
            )
        count = int(count)
        values: tuple[float, ...]
        if count == 1:
            values = (start,)
        else:
            values = tuple(start + (stop - start) * i / (count - 1) for i in range(count))
    else:
        values = tuple(_number(p, flag, text) for p in text.split(",") if p.strip())
    if not values:
        raise InputError([Issue(flag, None, None, "required", text, "give at least one amount")])
    negative = [v for v in values if v < 0]
    if negative:
        raise InputError([Issue(flag, None, None, "negative", f"{negative[0]:g}", "a fund cannot be negative")])
    return values


def parse_rules(text: str, flag: str = "--rule") -> tuple[str, ...]:
    rules = tuple(r.strip() for r in text.split(",") if r.strip())
    bad = [r for r in rules if r not in RULES]
    if bad or not rules:
        raise InputError(
            [
                Issue(
                    flag,
                    None,
                    None,
                    "unknown-rule",
                    ",".join(bad) or text,
                    f"rules are a comma list of {', '.join(RULES)}",
                )
            ]
        )
    return tuple(dict.fromkeys(rules))


def parse_deadlines(text: str, flag: str = "--deadline") -> tuple[int, ...]:
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        number = _number(part, flag, text)
        if number != int(number) or not 0 <= number <= 600:
            raise InputError(
                [Issue(flag, None, None, "out-of-range", part, "a deadline is whole months from 0 to 600")]
            )
        values.append(int(number))
    if not values:
        raise InputError([Issue(flag, None, None, "required", text, "give at least one deadline in months")])
    return tuple(dict.fromkeys(values))


def _number(part: str, flag: str, text: str) -> float:
    try:
        value = float(part.strip().replace("_", ""))
    except ValueError:
        raise InputError(
            [Issue(flag, None, None, "not-a-number", part.strip(), f"expected a number such as 1.895e9 in {text!r}")]
        ) from None
    if not math.isfinite(value):
        raise InputError([Issue(flag, None, None, "not-finite", part.strip(), "expected a finite number")])
    return value


def point_name(scenario: Scenario) -> str:
    """A folder-safe name for a sweep point, e.g. `optimal-fund1.833B-d12` (`-x1` with one extension)."""
    name = f"{scenario.rule}-fund{money_label(scenario.fund_usd)}-d{scenario.deadline}"
    return name + (f"-x{scenario.extensions}" if scenario.extensions else "")


def money_label(amount_usd: float) -> str:
    """USD to six significant digits with a B, M or K suffix: 1833000000 -> `1.833B`."""
    for suffix, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(amount_usd) >= scale:
            return f"{amount_usd / scale:.6g}{suffix}"
    return f"{amount_usd:.6g}"


def sweep_scenarios(
    base: Scenario, funds: Iterable[float], rules: Iterable[str], deadlines: Iterable[int] | None = None
) -> list[Scenario]:
    """Every combination of fund x rule x deadline on `base`, deadlines slowest, funds fastest."""
    scenarios = []
    for deadline in tuple(deadlines) if deadlines else (base.deadline,):
        for rule in rules:
            for fund in funds:
                scenario = base.with_overrides(fund_usd=float(fund), rule=rule, deadline=int(deadline))
                scenarios.append(scenario.with_overrides(name=point_name(scenario)))
    if len({s.name for s in scenarios}) != len(scenarios):
        raise InputError(
            [
                Issue(
                    "--fund",
                    None,
                    None,
                    "duplicate-point",
                    "",
                    "two sweep points have the same fund (to six digits), rule and deadline",
                )
            ]
        )
    return scenarios


# --- running tasks on local processes or on a Dask cluster -----------------------------------


@contextmanager
def executor_for(workers: int, scheduler: str | None = None) -> Iterator[Executor | None]:
    """A futures executor: a Dask client's when `scheduler` is given, local processes when workers > 1,
    else None (run in this process)."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise PlannerError("a Dask scheduler needs the `scale` extra: pip install 'rrplan[scale]'") from None
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise PlannerError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
    elif workers > 1:
        # forkserver, not fork: the app sweeps from a thread and rich draws from one, and forking a threaded
        # process can deadlock (the engine makes the same choice)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield None


def run_tasks(
    function: Callable[..., Result], arguments: Sequence[tuple], workers: int = 1, scheduler: str | None = None
) -> Iterator[tuple[int, Result | None, BaseException | None]]:
    """Call `function(*args)` for every tuple of `arguments`; yield (index, result, error) as each ends.

    The result is None when the task raised (its error is then the exception).

    An exception in one task is yielded as its error and the others go on. On
    KeyboardInterrupt the tasks not yet started are cancelled.
    """
    if not arguments:
        return  # nothing to do: do not start processes or connect to a cluster
    with executor_for(workers, scheduler) as executor:
        if executor is None:
            for index, args in enumerate(arguments):
                try:
                    yield index, function(*args), None
                except Exception as err:  # reported per task, the sweep goes on
                    yield index, None, err
            return
        pending: dict[Future, int] = {executor.submit(function, *args): i for i, args in enumerate(arguments)}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    error = future.exception()
                    if isinstance(error, KeyboardInterrupt):  # Ctrl-C reached the workers too: stop, do not record
                        raise KeyboardInterrupt
                    yield index, (None if error else future.result()), error
        finally:
            for future in pending:
                future.cancel()


# --- the sweep -------------------------------------------------------------------------------


def solve_point(dataset: Dataset, scenario: Scenario, workers: int = 1) -> Plan:
    """One sweep task: the plan of one scenario (the engine's own processes off by default)."""
    return plan(dataset, scenario, workers=workers)


@dataclass(frozen=True)
class SweepEstimate:
    """How long a sweep should take, and what the figure rests on."""

    seconds: float
    to_solve: int  # the scenarios not already in the store
    basis: str  # "from 12 earlier runs of this dataset", or "at most: every point at its time limit"


def estimate_sweep(
    dataset: Dataset, scenarios: Sequence[Scenario], store: RunStore | None, workers: int | None = None
) -> SweepEstimate:
    """The sweep's likely wall time: for each scenario the store does not hold, the median solve time of the
    stored runs of this dataset with the same rule (else with any rule), else its time limit; shared by
    the workers. Stored points cost nothing.
    """
    workers = default_workers() if workers is None else max(1, workers)
    runs = optional_store(store, "reading the stored runs", RunStore.runs) or []
    checksum = dataset_checksum(dataset)
    times: dict[str, list[float]] = {}
    for run in runs:
        seconds = run.summary.get("wall_seconds")
        if run.succeeded and run.dataset_sha256 == checksum and isinstance(seconds, int | float):
            times.setdefault(str(run.scenario.get("rule")), []).append(float(seconds))
    every = [t for rule_times in times.values() for t in rule_times]
    todo = [s for s in scenarios if optional_store(store, "looking up the run", RunStore.find, dataset, s) is None]
    total, measured = 0.0, 0
    for scenario in todo:
        known = times.get(scenario.rule) or every
        if known:
            total += min(sorted(known)[len(known) // 2], scenario.time_limit_s)  # the limit bounds every solve
            measured += 1
        else:
            total += scenario.time_limit_s
    if not todo:
        basis = "every point is in the run store"
    elif measured == len(todo):
        basis = f"from {len(every)} earlier run(s) of this dataset"
    elif measured:
        basis = f"from {len(every)} earlier run(s) of this dataset, and the time limit for rules never run"
    else:
        basis = "at most: no earlier run of this dataset, so every point at its time limit"
    return SweepEstimate(total / min(workers, max(1, len(todo))), len(todo), basis)


CURVE_FREE_SETTINGS = ("fund_usd", "rule", "deadline", "name", "time_limit_s", "tranches")


def stored_curve(store: RunStore, dataset: Dataset, base: Scenario) -> pd.DataFrame:
    """A funding curve from the run store alone: every successful run of this dataset whose scenario is `base`
    but for the fund, the rule and the deadline (and the name and time limit, which do not change what is
    asked; tranches scale with the fund, so only whether there are any must match), the latest per point.
    Same columns as a sweep's curve, so the two overlay; empty when no run fits.
    """
    checksum = dataset_checksum(dataset)
    wanted = json.loads(json.dumps({k: v for k, v in base.to_dict().items() if k not in CURVE_FREE_SETTINGS}))

    def fits(scenario: dict) -> bool:
        same = all(scenario.get(k) == v for k, v in wanted.items())
        return same and bool(scenario.get("tranches")) == bool(base.tranches)

    points: dict[tuple, dict] = {}
    for run in optional_store(store, "reading the stored runs", RunStore.runs) or []:
        if run.succeeded and run.dataset_sha256 == checksum and fits(run.scenario):
            row = {key: run.summary.get(key) for key in CURVE_COLUMNS}
            row.update(
                fund_usd=float(run.scenario["fund_usd"]),
                rule=run.scenario["rule"],
                deadline=int(run.scenario["deadline"]),
                status=run.status,
                extensions=run.scenario.get("extensions", 0),
                effective_deadline=run.summary.get("effective_deadline"),
                objective=run.summary.get("objective"),
                scenario=run.scenario_name,
                run_id=run.run_id,
                reused=True,
                folder="",
                error="",
            )
            points[(row["fund_usd"], row["rule"], row["deadline"])] = row  # runs come oldest first: the latest wins
    columns = [*CURVE_COLUMNS, *EXTRA_COLUMNS]
    return pd.DataFrame([points[key] for key in sorted(points)], columns=columns)


@dataclass
class SweepResult:
    """The funding curve (one row per scenario) and what happened to each run."""

    curve: pd.DataFrame
    solved: int = 0
    reused: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (scenario name, error)
    seconds: float = 0.0


def run_sweep(
    dataset: Dataset,
    scenarios: Sequence[Scenario],
    out: str | Path,
    store: RunStore | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: SweepProgress | None = None,
    solve: Callable[[Dataset, Scenario], Plan] = solve_point,
    source: str = "sweep",
) -> SweepResult:
    """Solve every scenario (reusing stored runs), write each run's folder and `out/curve.csv`."""

    began = time.perf_counter()
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    workers = default_workers() if workers is None else max(1, workers)
    result = SweepResult(curve=pd.DataFrame())
    rows: dict[int, dict] = {}
    todo: list[int] = []
    total = len(scenarios)

    def finish(index: int, row: dict) -> None:
        rows[index] = row
        write_curve(rows, scenarios, out)
        if progress:
            progress(len(rows), total, scenarios[index].name, row["status"])

    for index, scenario in enumerate(scenarios):
        stored = optional_store(store, "looking up the run", RunStore.find, dataset, scenario)
        if stored is None:
            todo.append(index)
            continue
        folder = out / "runs" / scenario.name
        if not (folder / "summary.json").is_file():
            if optional_store(store, "reading the stored run", RunStore.write_files, stored.run_id, folder) is None:
                todo.append(index)  # solved again instead
                continue
        result.reused += 1
        finish(index, curve_row(scenario, stored.summary, stored.run_id, True, folder, out))

    tasks = [(dataset, scenarios[i]) for i in todo]
    for position, plan_result, error in run_tasks(
        solve, tasks, workers=workers if len(todo) > 1 else 1, scheduler=scheduler
    ):
        index = todo[position]
        scenario = scenarios[index]
        folder = out / "runs" / scenario.name
        if error is not None:
            message = str(error) if isinstance(error, PlannerError) else f"{type(error).__name__}: {error}"
            failure = optional_store(
                store, "recording the failure", RunStore.save_failure, dataset, scenario, message, source
            )
            run_id = None if failure is None else failure.run_id
            result.failures.append((scenario.name, message))
            finish(index, failed_row(scenario, message, run_id))
            continue
        assert plan_result is not None  # run_tasks yields a result whenever there is no error
        figures, files = plan_files(plan_result)
        write_run_files(files, folder)
        saved = optional_store(store, "recording the run", RunStore.save, dataset, scenario, figures, files, source)
        run_id = None if saved is None else saved.run_id
        result.solved += 1
        finish(index, curve_row(scenario, figures, run_id, False, folder, out))

    result.curve = write_curve(rows, scenarios, out)
    result.seconds = time.perf_counter() - began
    return result


def curve_row(scenario: Scenario, figures: dict, run_id: int | None, reused: bool, folder: Path, out: Path) -> dict:
    row = {key: figures.get(key) for key in CURVE_COLUMNS}
    row.update(
        fund_usd=scenario.fund_usd,
        rule=scenario.rule,
        deadline=scenario.deadline,
        extensions=scenario.extensions,
        effective_deadline=scenario.effective_deadline,
        objective=figures.get("objective"),
        scenario=scenario.name,
        run_id=run_id,
        reused=reused,
        folder=folder.relative_to(out).as_posix(),
        error="",
    )
    return row


def failed_row(scenario: Scenario, message: str, run_id: int | None) -> dict:
    row = dict.fromkeys((*CURVE_COLUMNS, *EXTRA_COLUMNS))
    row.update(
        fund_usd=scenario.fund_usd,
        rule=scenario.rule,
        deadline=scenario.deadline,
        status="failed",
        extensions=scenario.extensions,
        effective_deadline=scenario.effective_deadline,
        scenario=scenario.name,
        run_id=run_id,
        reused=False,
        folder="",
        error=message,
    )
    return row


def write_curve(rows: dict[int, dict], scenarios: Sequence[Scenario], out: Path) -> pd.DataFrame:
    """Write `out/curve.csv` (rows in grid order, finished runs only) by rename; return the table."""

    curve = pd.DataFrame([rows[i] for i in sorted(rows)], columns=[*CURVE_COLUMNS, *EXTRA_COLUMNS])
    write_atomic(out / "curve.csv", curve.to_csv(index=False))
    return curve


def read_curve(out: str | Path) -> pd.DataFrame:
    """Read a sweep's `curve.csv` back."""
    return pd.read_csv(Path(out) / "curve.csv", keep_default_na=True)


def solve_recorded(
    dataset: Dataset,
    scenario: Scenario,
    out: str | Path,
    store: RunStore | None,
    progress: Callable[[int, int, str], None] | None = None,
    workers: int | None = None,
    source: str = "cli",
) -> tuple[dict, int | None, bool]:
    """One scenario through the store: reuse a stored run of the same inputs or solve and record it.

    Writes the plan's files into `out` either way; returns (summary figures, run id, reused).
    """

    out = Path(out)
    stored = optional_store(store, "looking up the run", RunStore.find, dataset, scenario)
    if stored is not None:
        files = optional_store(store, "reading the stored run", RunStore.files, stored.run_id)
        if files is not None:
            write_run_files(files, out)
            return stored.summary, stored.run_id, True
    try:
        result = plan(dataset, scenario, progress=progress, workers=workers)
    except SolveError as err:  # bad input is not a run; a solver that gave no plan is
        optional_store(store, "recording the failure", RunStore.save_failure, dataset, scenario, str(err), source)
        raise
    figures, files = plan_files(result)
    write_run_files(files, out)  # the plan first: the store is a convenience and must never cost it
    saved = optional_store(store, "recording the run", RunStore.save, dataset, scenario, figures, files, source)
    return figures, None if saved is None else saved.run_id, False


def optional_store(store: RunStore | None, doing: str, method: Callable, *args):
    """`method(store, *args)`, or None with a warning when there is no store or it fails (damaged, read-only)."""
    if store is None:
        return None
    try:
        return method(store, *args)
    except StoreError as err:
        print(f"warning: run store: {doing} failed, going on without the store: {err}", file=sys.stderr)
        return None


def plan_files(plan_result: Plan) -> tuple[dict, dict[str, str]]:
    """A plan's run-folder files (as `rrplan solve --out` writes them) and its recorded summary."""

    files = run_files(plan_result, run_provenance())
    return json.loads(files["summary.json"]), files


def record_plan(store: RunStore, plan_result: Plan, source: str = "app") -> int:
    """Record a plan solved elsewhere (e.g. by the app) in the store, with the files `write_plan` makes; its run id."""
    figures, files = plan_files(plan_result)
    return store.save(plan_result.dataset, plan_result.scenario, figures, files, source).run_id
