"""The program's clock: when fund money arrives (tranches) and when each applicant's term ends.

Periods are months from the scenario's `start` (period 0). Conventions:

- A tranche `("YYYY-MM", usd)` arrives in that month; money that arrived before `start` is
  there in period 0. `fund_usd` alone is one tranche in period 0.
- phi(t) = (money arrived in periods <= t) / fund is the fraction of the fund in hand by t.
  A carrier may have drawn at most allocation_c * phi(t) from the fund by period t: every
  tranche carries the same share of every allocation (and of the administrative reserve).
  Own funds are there from period 0 and are spent first.
- A site's whole cost is drawn in the month its work starts (money is committed when a
  crew goes to work), so cumulative spend by t is the cost of the sites started by t.
- Each applicant's term runs from the month the fund first has money for it (the first
  tranche: 47 CFR 1.50004's one year from the first draw-down), plus six months per
  extension granted to it (its `extensions`, or the scenario's when it has none). A carrier
  the fund gives nothing runs on the same clock, so every carrier's deadline depends on the
  scenario and its own extensions only, never on the allocation.

Plans from today (`as_of`, and each site's `status` and `started` in sites.csv):

- Period 0 is still `start`; `as_of` (default `start`) is the period of "today", within
  [0, horizon). Planned sites start no earlier than `as_of`.
- A site `in_progress` or `replaced` keeps its recorded start `period_of_month(started)`,
  which may be negative (work begun before `start`). Its cost counts as spent in that month
  (before `start`: in period 0 of the accounting, i.e. it is already gone when planning
  begins). Spending is one pool (own funds + the allocation's share arrived), so which pot
  paid for done work does not change what is left; the program's rule is that it came out
  of the allocation, and the plan only spends what remains.
- Months before `as_of` are the record, not the plan: crews are checked from `as_of` on,
  where an in-progress site occupies its crews for the rest of its work
  (months `max(as_of, started) .. started + d - 1`). A replaced site is finished by `as_of`
  (`started + d <= as_of`, a validation rule). A finish before period 0 counts 0 months on
  covered gear in the exposure objective (people are counted from `start`).
"""

from __future__ import annotations

import math

from planner.core.schema import EXTENSION_MONTHS, Carrier, Dataset, Scenario


def month_index(label: str) -> int:
    """Months since year 0 of a `YYYY-MM` label."""
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def period_of_month(scenario: Scenario, label: str) -> int:
    """Period of a `YYYY-MM` month (negative before `start`)."""
    return month_index(label) - month_index(scenario.start)


def fund_arrivals(scenario: Scenario) -> tuple[tuple[int, float], ...]:
    """(period, usd) of the money arriving, sorted, one entry per period, periods >= 0."""
    if not scenario.tranches:
        return ((0, scenario.fund_usd),)
    by_period: dict[int, float] = {}
    for label, usd in scenario.tranches:
        period = max(0, period_of_month(scenario, label))
        by_period[period] = by_period.get(period, 0.0) + usd
    return tuple(sorted(by_period.items()))


def arrived_fraction(scenario: Scenario, period: int) -> float:
    """phi(t): the fraction of the fund that has arrived by `period` (1 for an empty fund)."""
    if scenario.fund_usd <= 0:
        return 1.0
    arrived = math.fsum(usd for p, usd in fund_arrivals(scenario) if p <= period)
    return 1.0 if arrived >= scenario.fund_usd * (1 - 1e-12) else arrived / scenario.fund_usd


def arrival_steps(scenario: Scenario) -> tuple[tuple[int, float], ...]:
    """(last period, phi) of each stretch of months in which less than the whole fund is in hand.

    phi is constant between arrivals and spend only grows, so one row at the last period
    of each stretch bounds every month of it.
    """
    arrivals = fund_arrivals(scenario)
    steps = []
    if arrivals[0][0] > 0:
        steps.append((arrivals[0][0] - 1, 0.0))
    for (period, _), (next_period, _) in zip(arrivals, arrivals[1:], strict=False):
        phi = arrived_fraction(scenario, period)
        if phi < 1.0:
            steps.append((next_period - 1, phi))
    return tuple(steps)


def first_money_period(scenario: Scenario) -> int:
    """The first period in which the fund has money (the program's first disbursement)."""
    return next((p for p, usd in fund_arrivals(scenario) if usd > 0), 0)


def carrier_extensions(scenario: Scenario, carrier: Carrier | None) -> int:
    """Extensions granted to a carrier: its own, or the scenario's default."""
    if carrier is None or carrier.extensions is None:
        return scenario.extensions
    return carrier.extensions


def carrier_deadline(scenario: Scenario, carrier: Carrier | None) -> int:
    """A carrier's effective deadline, in periods: first money + term + 6 x its extensions."""
    return first_money_period(scenario) + scenario.deadline + EXTENSION_MONTHS * carrier_extensions(scenario, carrier)


def carrier_deadlines(dataset: Dataset, scenario: Scenario) -> dict[str, int]:
    """Every carrier's effective deadline (see `carrier_deadline`)."""
    return {c.carrier_id: carrier_deadline(scenario, c) for c in dataset.carriers}


def with_fund(scenario: Scenario, fund_usd: float, keep_tranches: bool = True) -> Scenario:
    """The scenario with another fund; its tranches, if kept, scaled so each carries the same share of it.

    `Scenario.with_overrides(fund_usd=...)` alone means one tranche at `start`; a what-if on the
    size of a fund that arrives in tranches ("$1B more, on the same calendar") keeps the calendar.
    """
    if not (keep_tranches and scenario.tranches) or scenario.fund_usd <= 0:
        return scenario.with_overrides(fund_usd=fund_usd)
    scale = fund_usd / scenario.fund_usd
    tranches = tuple((month, usd * scale) for month, usd in scenario.tranches)
    tranches = (*tranches[:-1], (tranches[-1][0], fund_usd - math.fsum(usd for _, usd in tranches[:-1])))
    return scenario.with_overrides(fund_usd=fund_usd, tranches=tranches)


def tranche_words(scenario: Scenario) -> str:
    """'$1.895B in 2022-07, $3.08B in 2025-04', or 'all at the start (2022-08)'."""
    if not scenario.tranches:
        return f"all at the start ({scenario.start})"
    return ", ".join(f"${usd / 1e9:,.4g}B in {month}" for month, usd in scenario.tranches)


def as_of_period(scenario: Scenario) -> int:
    """The period of "today": planned work starts no earlier (0 when the scenario has no `as_of`)."""
    return period_of_month(scenario, scenario.as_of) if scenario.as_of else 0


def recorded_starts(sites, scenario: Scenario) -> dict[str, int]:
    """Start period of every site the record fixes (in progress or replaced), negative before `start`."""
    return {s.site_id: period_of_month(scenario, s.started) for s in sites if s.fixed and s.started}
