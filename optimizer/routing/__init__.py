"""Order routing: the routing contract (problem in, plan out), solved for a whole batch.

Public API::

    problem = parse_problem(document)          # raises RoutingInputError
    plan = solve(problem, strategy=None, time_limit_s=None, workers=2, seed=0)
    plan = route_order(one_order_problem)      # exact, real-time
    validate_plan(problem, plan)               # raises PlanViolation
    plan.to_json()                             # the contract's plan document
    explain_plan(problem, plan)                # the same, with an explanation per entry
"""

from .explain import explain_plan
from .plan import RoutingPlan
from .problem import RoutingInputError, RoutingProblem, parse_problem
from .single import route_order
from .solve import solve
from .validate import PlanViolation, validate_plan

__all__ = [
    "PlanViolation", "RoutingInputError", "RoutingPlan", "RoutingProblem", "explain_plan",
    "parse_problem", "route_order", "solve", "validate_plan",
]
