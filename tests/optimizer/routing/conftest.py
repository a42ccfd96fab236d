"""Helpers for routing tests: small problem documents, and solving that always validates."""

from __future__ import annotations

import copy

import pytest

from optimizer.routing import parse_problem, solve, validate_plan
from optimizer.routing.schema import PlanOut


def lane(node, region="NE", service="standard", per_shipment=5.0, per_unit=0.5, days=2):
    return {"node": node, "region": region, "service": service,
            "cost_per_shipment": per_shipment, "cost_per_unit": per_unit, "transit_days": days}


def order(oid, lines, region="NE", **extra):
    return {"id": oid, "region": region,
            "lines": [{"sku": sku, "qty": qty} for sku, qty in lines], **extra}


def document(nodes, inventory, lanes, orders, **policy):
    """nodes: ids or dicts; inventory: {(node, sku): qty}."""
    return {
        "nodes": [n if isinstance(n, dict) else {"id": n} for n in nodes],
        "inventory": [{"node": n, "sku": s, "available": q} for (n, s), q in inventory.items()],
        "lanes": lanes,
        "orders": orders,
        "policy": {"backorder_penalty_per_unit": 40.0, **policy},
    }


def checked(doc, strategy="optimal", time_limit_s=5.0):
    """Parse, solve, and run the independent validator (every test that plans uses this)."""
    problem = parse_problem(copy.deepcopy(doc))
    plan = solve(problem, strategy=strategy, time_limit_s=time_limit_s, workers=1, seed=0)
    validate_plan(problem, plan)
    PlanOut.model_validate(plan.to_json())
    return problem, plan


def shipped(plan):
    """{(order, node): {line: qty}}"""
    return {(s.order, s.node): {l.line: l.qty for l in s.lines} for s in plan.shipments}


def reasons(plan):
    return {(b.order, b.line): (b.reason, b.qty) for b in plan.backorders}


@pytest.fixture(params=["optimal", "greedy"])
def strategy(request):
    return request.param
