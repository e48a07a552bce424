"""The bottom layer: frozen records, the error tree, the objective, the dependency graph and display wording.

Nothing here imports another layer of the planner.
"""

__version__ = "0.1.0"
