"""What would make a carrier finish on time: the least money, crews or lead-time relief, computed by re-planning.

Each lever is searched alone, re-planning only that carrier (`replan.replan_carrier`: the
fund's allocation stays fixed) with the makespan objective (finish everything as early as
possible), so that "on time" means: every site replaced and the last one finished by the
effective deadline D.

- money: on time needs every site paid for, so the least extra money is the shortfall
  demand - (allocation + own funds), exactly; one re-plan at that amount tells whether
  money alone is enough (it is not when crews, lead times or dependencies also bite);
- crews: every crew pool of the carrier (and its winter capacity) multiplied by m >= 1;
  m doubles from 1 until the carrier is on time (at most MAX_CREW_FACTOR), then bisection
  narrows [fails, on time] until it is within CREW_FACTOR_PRECISION (5%) of its on-time end,
  which is the answer (at most 5% above the least factor);
- together: when no lever alone is enough, the money shortfall paid, every lead time
  shortened by the least relief r >= the bound below with which MAX_CREW_FACTOR x crews
  are on time, then the least crew factor with that relief, searched as for crews: one
  combination that is on time (least relief first, then least crews), not a joint optimum;
- before any search, one re-plan without changes: the plan's own objective (people
  first) can finish late where a finish-early schedule of the same carrier is on time;
- lead time: every site's lead time shortened by r whole months (never below 0); r starts
  at the bound: the least r for which the earliest finish with unlimited crews and money,
  max_s e_s + d_s with e_s = max(lead_s - r, max_{p in P(s)} e_p + d_p), is by D; bisection
  over the integers up to max_s lead_s then finds the least r.

Without solving: when that earliest finish (r = 0) is after D, neither money nor crews can
make the carrier on time, and their searches say so at once.

Crews and lead time need the money first: while the carrier cannot pay for every site,
neither lever alone can make it on time, so their searches run with the money shortfall
paid as well, and their answers say so.

Monotonicity assumed: more crews or earlier deliveries never make the best schedule finish
later (a schedule that works with fewer crews or later deliveries still works). The
solver's plan under a time limit is only as good as the solver found, so a search point can
fail where a better schedule exists; the answer is then an upper bound on the least
change, still backed by a re-plan that is on time. Every point tried is kept in `trials`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from planner.analysis.replan import CarrierChanges, replan_carrier
from planner.core.network import earliest_starts
from planner.core.schema import Plan
from planner.core.wording import usd

LEVERS = ("money", "crews", "lead time", "together")
MAX_CREW_FACTOR = 16.0  # beyond 16x crews the answer is "crews are not the problem"
CREW_FACTOR_PRECISION = 0.05  # relative: the crew answer is at most 5% above the least factor


@dataclass(frozen=True)
class Trial:
    """One re-plan of the search: the lever's value and what it gave."""

    value: float
    on_time: bool
    sites_replaced: int
    last_finish: int | None  # period of the last finish, None when nothing is replaced


@dataclass(frozen=True)
class LeastChange:
    """The least change of one lever that makes the carrier finish on time, or why there is none."""

    lever: str  # money | crews | lead time
    found: bool
    value: float | None  # extra USD | crew factor | months earlier; None when not found
    changes: CarrierChanges | None  # the changes that were re-planned on time
    note: str
    trials: tuple[Trial, ...] = field(default=())


def carrier_on_time(plan: Plan, carrier_id: str) -> tuple[bool, int, int | None]:
    """(every site replaced and finished by the effective deadline, sites replaced, last finish period)."""
    sites = plan.dataset.sites_by_carrier.get(carrier_id, ())
    finishes = [plan.starts[s.site_id] + s.duration_months for s in sites if s.site_id in plan.starts]
    last = max(finishes) if finishes else None
    on_time = len(finishes) == len(sites) and (last is None or last <= plan.scenario.effective_deadline)
    return on_time, len(finishes), last


def money_shortfall_usd(plan: Plan, carrier_id: str) -> float:
    """Demand - (allocation + own funds), at least 0: what the carrier lacks to pay for every site."""
    carrier = plan.dataset.carrier_by_id[carrier_id]
    money = plan.allocation_usd.get(carrier_id, 0.0) + carrier.own_funds_usd
    return max(0.0, plan.dataset.demand_usd(carrier_id) - money)


def least_change_to_finish_on_time(
    plan: Plan,
    carrier_id: str,
    lever: str,
    time_limit_s: float | None = None,
    on_trial: Callable[[Trial], None] | None = None,
) -> LeastChange:
    """The least change of `lever` (LEVERS) for the carrier to finish on time (module docstring).

    Each search point is one re-plan of the carrier within `time_limit_s`; `on_trial` is
    called after each (a progress display: the largest carriers take 10-20 s per re-plan).
    """
    if lever not in LEVERS:
        raise ValueError(f"lever must be one of {', '.join(LEVERS)}, not {lever!r}")
    trials: list[Trial] = []
    carrier = plan.dataset.carrier_by_id[carrier_id]
    makespan_plan = replace(plan, scenario=plan.scenario.with_overrides(objective="makespan"))

    def try_changes(value: float, changes: CarrierChanges) -> bool:
        replanned = replan_carrier(makespan_plan, carrier_id, changes, time_limit_s=time_limit_s)
        on_time, replaced, last = carrier_on_time(replanned, carrier_id)
        trials.append(Trial(value, on_time, replaced, last))
        if on_trial is not None:
            on_trial(trials[-1])
        return on_time

    on_time, _, _ = carrier_on_time(plan, carrier_id)
    if on_time:
        return LeastChange(lever, True, 0.0, CarrierChanges(), "already on time: nothing needs to change")
    shortfall = money_shortfall_usd(plan, carrier_id)
    sites = plan.dataset.sites_by_carrier.get(carrier_id, ())
    deadline = plan.scenario.effective_deadline
    unbounded_finish = earliest_finish(sites)
    if lever in ("money", "crews") and unbounded_finish > deadline:
        return LeastChange(
            lever,
            False,
            None,
            None,
            f"changing {lever} alone is not enough: lead times and dependencies alone take until month "
            f"{unbounded_finish}, "
            f"after the deadline (month {deadline}), whatever the money and crews",
            (),
        )

    if lever == "money":
        if shortfall <= 0.5:
            return LeastChange(lever, False, None, None, "money is not what is missing: every site is paid for", ())
        changes = CarrierChanges(own_funds_usd=carrier.own_funds_usd + shortfall)
        if try_changes(shortfall, changes):
            return LeastChange(lever, True, shortfall, changes, "the shortfall against demand, exactly", tuple(trials))
        return LeastChange(
            lever,
            False,
            None,
            None,
            "money alone is not enough: even with every site paid for, the carrier finishes late",
            tuple(trials),
        )

    # Crews and lead times help only once every site is paid for: close the money gap first, and say so.
    base = CarrierChanges(own_funds_usd=carrier.own_funds_usd + shortfall) if shortfall > 0.5 else CarrierChanges()
    paid = f", with the {usd(shortfall)} shortfall paid as well" if shortfall > 0.5 else ""
    pools = plan.dataset.crews_by_carrier.get(carrier_id, {})
    most = max((s.lead_time_months for s in sites), default=0)
    bound = next((r for r in range(most + 1) if earliest_finish(sites, r) <= deadline), most + 1)
    if lever == "together":
        if bound > most:
            return LeastChange(
                lever,
                False,
                None,
                None,
                "even with every delivery at the start and unlimited crews and money, the months of work along "
                f"the dependencies end in month {earliest_finish(sites, most)}, after the deadline (month {deadline})",
                (),
            )
        # The least relief with which the most crews are on time (at the bound itself there is no slack at all).
        for relief in range(bound, most + 1):
            candidate = replace(base, lead_time_change_months=-relief) if relief else base
            if try_changes(MAX_CREW_FACTOR, _with_crews(candidate, pools, MAX_CREW_FACTOR)):
                break
        else:
            return LeastChange(
                lever,
                False,
                None,
                None,
                f"even {MAX_CREW_FACTOR:g}x crews with every delivery at the start do not finish on time" + paid,
                tuple(trials),
            )
        base = candidate
        if relief:
            paid += f" and every lead time {relief} month(s) shorter"
    if try_changes(0.0, base):
        return LeastChange(
            lever,
            True,
            0.0,
            base,
            "on time with no change of this lever once the schedule aims to finish early" + paid,
            tuple(trials),
        )

    if lever in ("crews", "together"):

        def crews(factor: float) -> CarrierChanges:
            return _with_crews(base, pools, factor)

        low, high = 1.0, 2.0
        while not try_changes(high, crews(high)):
            low, high = high, high * 2
            if high > MAX_CREW_FACTOR:
                return LeastChange(
                    lever,
                    False,
                    None,
                    None,
                    f"even {MAX_CREW_FACTOR:g}x crews do not finish on time: lead times or dependencies bite" + paid,
                    tuple(trials),
                )
        high = _bisect(low, high, lambda f: try_changes(f, crews(f)), CREW_FACTOR_PRECISION, relative=True)
        return LeastChange(
            lever,
            True,
            high,
            crews(high),
            f"every crew pool x{high:.2f} (searched to within {CREW_FACTOR_PRECISION:.0%}){paid}",
            tuple(trials),
        )

    def earlier(months: float) -> CarrierChanges:
        return replace(base, lead_time_change_months=-int(months))

    if bound > most or not try_changes(most, earlier(most)):
        return LeastChange(
            lever,
            False,
            None,
            None,
            "even with every delivery at the start, the carrier finishes late: crews or dependencies bite" + paid,
            tuple(trials),
        )
    low = max(0, bound - 1)  # bound - 1 months fails (the earliest finish is late whatever else happens)
    high = _bisect(low, most, lambda r: try_changes(r, earlier(r)), 1, integer=True)
    return LeastChange(
        lever, True, float(high), earlier(high), f"every lead time {int(high)} month(s) shorter{paid}", tuple(trials)
    )


def _with_crews(changes: CarrierChanges, pools: dict, factor: float) -> CarrierChanges:
    """`changes` with every crew pool (and its winter capacity) multiplied by `factor`."""
    return replace(
        changes,
        crews=tuple(
            (kind, pool.capacity * factor, None if pool.winter_capacity is None else pool.winter_capacity * factor)
            for kind, pool in sorted(pools.items())
        ),
    )


def earliest_finish(sites, lead_time_relief_months: int = 0) -> int:
    """max_s e_s + d_s with every lead time shortened by the relief: the finish with unlimited crews and money."""
    relieved = [replace(s, lead_time_months=max(0, s.lead_time_months - lead_time_relief_months)) for s in sites]
    earliest = earliest_starts(relieved)
    return max((earliest[s.site_id] + s.duration_months for s in relieved), default=0)


def _bisect(
    fails: float, works: float, on_time: Callable[[float], bool], precision: float, integer=False, relative=False
) -> float:
    """Shrink [fails, works] until works - fails <= precision (x works if relative); return works (on time).

    Assumes monotonicity: every value above one that works also works.
    """
    while works - fails > precision * (works if relative else 1):
        middle = (fails + works) // 2 if integer else (fails + works) / 2
        if integer and middle in (fails, works):
            break
        if on_time(middle):
            works = middle
        else:
            fails = middle
    return math.ceil(works) if integer else works


def trials_table(results: list[LeastChange]) -> pd.DataFrame:
    """Every re-plan the searches made: lever, value tried, on time, sites replaced, last finish period."""
    rows = [
        {
            "lever": result.lever,
            "value": trial.value,
            "on_time": trial.on_time,
            "sites_replaced": trial.sites_replaced,
            "last_finish": trial.last_finish,
        }
        for result in results
        for trial in result.trials
    ]
    table = pd.DataFrame(rows, columns=["lever", "value", "on_time", "sites_replaced", "last_finish"])
    table["last_finish"] = table["last_finish"].astype("Int64")
    return table
