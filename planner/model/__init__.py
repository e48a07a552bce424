"""The optimisation model: one carrier's time-indexed schedule (see `build`), and its data (`case`)."""
from .build import CONSTRAINT_FAMILIES, OBJECTIVES, PlanModel, build_model
from .case import CarrierCase, carrier_case, crew_capacity

__all__ = ["CONSTRAINT_FAMILIES", "OBJECTIVES", "PlanModel", "build_model", "CarrierCase", "carrier_case", "crew_capacity"]
