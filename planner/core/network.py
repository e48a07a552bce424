"""The dependency network: cycles, topological order and earliest possible starts.

A site depends on others (`depends_on`) when their work must be finished before its
own can begin: the core before backhaul hubs, a hub before the RAN sites behind it.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from planner.core.schema import Site


def dependency_graph(sites: Iterable[Site]) -> nx.DiGraph:
    """Arc j -> s for every site s that depends on j (unknown ids are ignored here)."""
    sites = list(sites)
    graph = nx.DiGraph()
    graph.add_nodes_from(s.site_id for s in sites)
    known = set(graph.nodes)
    graph.add_edges_from((j, s.site_id) for s in sites for j in s.depends_on if j in known and j != s.site_id)
    return graph


def dependency_cycles(sites: Iterable[Site]) -> list[list[str]]:
    """One named cycle per strongly connected group of sites that wait on each other."""
    graph = dependency_graph(sites)
    cycles = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            cycle_edges = nx.find_cycle(graph.subgraph(component))
            cycles.append([u for u, _ in cycle_edges])
    return sorted(cycles)


def topological_order(sites: Iterable[Site]) -> list[str]:
    """Site ids with every site after all the sites it depends on (ties by id, stable)."""
    return list(nx.lexicographical_topological_sort(dependency_graph(sites)))


def earliest_starts(sites: Iterable[Site]) -> dict[str, int]:
    """Earliest start of each site: its lead time, and after its predecessors' earliest finish.

    e_s = max(lead_s, max_{j in pred(s)} e_j + d_j)
    """
    sites = list(sites)
    by_id = {s.site_id: s for s in sites}
    earliest: dict[str, int] = {}
    for site_id in topological_order(sites):
        site = by_id[site_id]
        earliest[site_id] = max(
            [site.lead_time_months] + [earliest[j] + by_id[j].duration_months for j in site.depends_on if j in earliest]
        )
    return earliest


def ancestors(sites: Iterable[Site], site_id: str) -> set[str]:
    """Every site that must be finished, directly or through others, before `site_id` starts."""
    return nx.ancestors(dependency_graph(sites), site_id)
