from __future__ import annotations

import copy

import pytest

from optimizer.replenishment import parse_problem, solve, validate_plan

BASE = {
    "periods": 6,
    "period_days": 7,
    "skus": [{"sku": "TEE", "holding_cost": 0.05, "backlog_cost": 2.0, "case_pack": 12}],
    "nodes": [{"id": "DC", "receiving_capacity": None}],
    "positions": [{"sku": "TEE", "node": "DC", "on_hand": 20, "safety_stock": 0}],
    "demand": [{"sku": "TEE", "node": "DC", "period": t, "qty": 10} for t in range(6)],
    "suppliers": [{"id": "ACME", "lead_time_periods": 1, "capacity_units": None,
                   "fixed_order_cost": 0.0}],
    "supplier_items": [{"supplier": "ACME", "sku": "TEE", "unit_cost": 1.0, "moq": 0}],
    "policy": {"safety_stock_penalty": 0.0, "budget": None, "time_limit_seconds": 10},
}


@pytest.fixture
def doc():
    return copy.deepcopy(BASE)


STRATEGIES = ["optimal", "minmax"]


def plan_of(doc, strategy, time_limit_s=10):
    """Parse, solve with one worker, and run the independent validator on the plan."""
    p = parse_problem(doc)
    body = solve(p, strategy=strategy, time_limit_s=time_limit_s, workers=1).to_json()
    validate_plan(p, body)
    return body
