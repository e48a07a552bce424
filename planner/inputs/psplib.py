"""Read PSPLIB single-mode RCPSP instances (`.sm`) as a one-carrier dataset.

The planner's scheduler is a general resource-constrained project scheduler; PSPLIB's
instances with published optimal makespans check it. Jobs become sites, renewable
resources become crew types, precedence arcs become `depends_on`. Zero-duration jobs
(the super source and sink) are dropped and their arcs bridged.
"""

from __future__ import annotations

import re
from pathlib import Path

from planner.core.errors import InputError, Issue
from planner.core.schema import Carrier, CrewPool, Dataset, Scenario, Site

MAX_PSPLIB_BYTES = 16 * 2**20


def _section(text: str, title: str) -> list[str]:
    match = re.search(rf"^{re.escape(title)}.*?\n(.*?)(?:^\*+\s*$|\Z)", text, flags=re.S | re.M)
    if not match:
        raise ValueError(f"section {title!r} not found")
    return [line for line in match.group(1).splitlines() if line.strip()]


def read_psplib(path: str | Path, carrier_id: str = "project") -> Dataset:
    """Parse a `.sm` file; raise InputError naming the file if it is not one."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PSPLIB_BYTES:  # judged before reading: PSPLIB's largest instances are about 30 KB
            raise ValueError(f"{size:,} bytes is far larger than any PSPLIB instance")
        text = path.read_text(encoding="utf-8", errors="strict")
        successors: dict[int, list[int]] = {}
        for line in _section(text, "PRECEDENCE RELATIONS:")[1:]:
            numbers = [int(x) for x in line.split()]
            successors[numbers[0]] = numbers[3 : 3 + numbers[2]]
        requests = _section(text, "REQUESTS/DURATIONS:")
        resource_names = re.findall(r"R\s*(\d+)", requests[0])
        durations: dict[int, int] = {}
        needs: dict[int, list[int]] = {}
        for line in requests[1:]:
            if line.startswith("-"):
                continue
            numbers = [int(x) for x in line.split()]
            durations[numbers[0]] = numbers[2]
            needs[numbers[0]] = numbers[3 : 3 + len(resource_names)]
        capacity_lines = _section(text, "RESOURCEAVAILABILITIES:")
        capacities = [int(x) for x in capacity_lines[1].split()]
    except (OSError, UnicodeDecodeError, ValueError, IndexError) as err:
        raise InputError(
            [Issue(path.name, None, None, "psplib-format", None, f"not a PSPLIB .sm file: {err}")]
        ) from None

    predecessors: dict[int, set[int]] = {job: set() for job in durations}
    for job, after in successors.items():
        for other in after:
            predecessors.setdefault(other, set()).add(job)

    def real_predecessors(job: int, seen: set[int] | None = None) -> set[int]:
        found: set[int] = set()
        for before in predecessors.get(job, ()):
            if durations.get(before, 0) > 0:
                found.add(before)
            else:
                found |= real_predecessors(before)
        return found

    crew_types = [f"r{n}" for n in resource_names]
    sites = tuple(
        Site(
            site_id=f"job{job:03d}",
            carrier_id=carrier_id,
            kind="other",
            cost_usd=0.0,
            duration_months=durations[job],
            population=0,
            depends_on=tuple(f"job{j:03d}" for j in sorted(real_predecessors(job))),
            crew_need=tuple(sorted((crew_types[i], float(u)) for i, u in enumerate(needs[job]) if u > 0)),
            name=f"job {job}",
        )
        for job in sorted(durations)
        if durations[job] > 0
    )
    crews = tuple(CrewPool(carrier_id, crew_types[i], float(c)) for i, c in enumerate(capacities))
    horizon = sum(s.duration_months for s in sites)
    return Dataset(
        carriers=(Carrier(carrier_id, path.stem, "NA", 0),),
        crews=crews,
        sites=sites,
        name=path.stem,
        default_scenario=Scenario(
            fund_usd=0.0,
            objective="makespan",
            horizon=max(1, horizon),
            deadline=max(1, horizon),
            time_limit_s=60.0,
            mip_gap=0.0,
            name=path.stem,
        ),
    )
