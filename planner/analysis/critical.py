"""A carrier's schedule as a scheduler reads it: dependencies, hubs and the critical path.

Definitions (periods are months from the scenario's start; a site s starts at S_s and
finishes at F_s = S_s + d_s; P(s) are the sites s depends on):

- dependency: (predecessor p, successor s) for every p in P(s); s may start only once p
  has finished, S_s >= F_p;
- hub of a site: the site it hangs off, its first predecessor (a tower's backhaul, a
  backhaul's core); a site without predecessors is its own root and has no hub;
- critical path of a carrier: the chain of replaced sites that ends at the carrier's last
  finish max_s F_s and, walking back, goes from each site to the predecessor that finishes
  last (the one that bounds its start: S_s >= max_p F_p). The chain stops at a site
  without replaced predecessors. A link where S_s > F_p waits for something other than
  its predecessor (a lead time, crews or money); `critical_path` still follows it,
  because shortening anything off the chain cannot bring the last finish forward without
  shortening the chain's own dependencies as well.
"""

from __future__ import annotations

import pandas as pd

from planner.core.schema import Dataset, Plan

DEPENDENCY_COLUMNS = ["predecessor_id", "site_id"]


def dependency_table(dataset: Dataset, carrier_id: str | None = None) -> pd.DataFrame:
    """One row per dependency (predecessor_id must finish before site_id starts), of one carrier or all."""
    rows = [
        {"predecessor_id": predecessor, "site_id": site.site_id}
        for site in dataset.sites
        if carrier_id is None or site.carrier_id == carrier_id
        for predecessor in site.depends_on
    ]
    return pd.DataFrame(rows, columns=DEPENDENCY_COLUMNS)


def hubs(dataset: Dataset, carrier_id: str | None = None) -> dict[str, str | None]:
    """site_id -> its hub (first predecessor), or None for a site that depends on nothing."""
    return {
        site.site_id: (site.depends_on[0] if site.depends_on else None)
        for site in dataset.sites
        if carrier_id is None or site.carrier_id == carrier_id
    }


def critical_path(plan: Plan, carrier_id: str) -> list[str]:
    """The carrier's critical path, first site first (see the module docstring); [] if nothing is replaced.

    Ties (two predecessors finishing in the same month, or two sites finishing last) go to
    the smaller site id, so the answer does not depend on the order of the input files.
    """
    sites = plan.dataset.sites_by_carrier.get(carrier_id, ())
    finish = {s.site_id: plan.starts[s.site_id] + s.duration_months for s in sites if s.site_id in plan.starts}
    if not finish:
        return []
    last = min(finish, key=lambda site_id: (-finish[site_id], site_id))
    chain = [last]
    seen = {last}
    while True:
        predecessors = [
            p for p in plan.dataset.site_by_id[chain[-1]].depends_on if p in finish and p not in seen
        ]  # `seen` guards against a cycle, which validation already refuses
        if not predecessors:
            break
        binding = min(predecessors, key=lambda site_id: (-finish[site_id], site_id))
        chain.append(binding)
        seen.add(binding)
    return chain[::-1]
