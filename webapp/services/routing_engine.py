"""The router the order services use: contract JSON in, explained plan JSON out.

``solve`` sends one order through the exact single-order search (milliseconds,
fit for an HTTP request; an order too large for it to finish in half its time
limit goes on to the batch MIP for the rest) and a batch through the batch
optimizer. Either way the
plan is checked by the solver-independent validator before anything is
reserved: a plan that breaks a rule is a bug, and it must never reach the
ledger.
"""

from __future__ import annotations

from optimizer import routing

WORKERS = 1  # web workers are many processes already; one solver thread each
SEED = 0


def route_problem(document: dict) -> dict:
    problem = routing.parse_problem(document)
    plan = routing.solve(problem, workers=WORKERS, seed=SEED)
    routing.validate_plan(problem, plan)
    return routing.explain_plan(problem, plan)
