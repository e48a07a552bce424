"""The optimisation model: one carrier's time-indexed schedule (see `build`), and its data (`case`)."""

from planner.model.build import CONSTRAINT_FAMILIES, OBJECTIVES, PlanModel, build_model
from planner.model.case import CarrierCase, carrier_case, crew_capacity

__all__ = [
    "CONSTRAINT_FAMILIES",
    "OBJECTIVES",
    "PlanModel",
    "build_model",
    "CarrierCase",
    "carrier_case",
    "crew_capacity",
]
