"""Replenishment planning to the replenishment contract (docs/replenishment.md).

Public interface: ``parse_problem(dict)``, ``solve(problem, *, strategy, time_limit_s,
workers, seed)``, ``validate_plan(problem, plan)``, ``build_problem(...)`` (``build_document``
for the dict) and the input error ``ReplenishmentInputError``.
"""

from .build import build_document, build_problem
from .plan import Cost, Order, ReplenishmentPlan
from .problem import ReplenishmentInputError, ReplenishmentProblem, parse_problem
from .solve import solve
from .validate import PlanInvalid, recompute_cost, validate_plan

__all__ = ["Cost", "Order", "PlanInvalid", "ReplenishmentInputError", "ReplenishmentPlan",
           "ReplenishmentProblem", "build_document", "build_problem", "parse_problem",
           "recompute_cost", "solve", "validate_plan"]
