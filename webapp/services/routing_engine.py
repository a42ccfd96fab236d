"""The router the order services use: contract JSON in, explained plan JSON out.

One order goes through the exact single-order search (milliseconds, fit for
an HTTP request); a batch goes through the batch optimizer. Either way the
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
    if problem.n_orders == 1 and problem.strategy == "optimal":
        plan = routing.route_order(problem)
    else:
        plan = routing.solve(problem, workers=WORKERS, seed=SEED)
    routing.validate_plan(problem, plan)
    return routing.explain_plan(problem, plan)
