"""The presolve removes order options whose smallest legal order (MOQ rounded up to the case
pack) cannot fit the supplier's capacity, the node's receiving capacity or the budget: the
bound then sees that nothing (or less) can be bought, and the exceptions name the MOQ."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from optimizer.replenishment import parse_problem, solve, validate_plan
from optimizer.replenishment import lagrange as lg
from optimizer.replenishment.bound import decoupled_bound
from optimizer.replenishment.model import solve_mip
from optimizer.replenishment.presolve import order_options

# MOQ 12 with case pack 6: the smallest legal order is 12 units
BASE = {
    "periods": 4,
    "skus": [{"sku": "S", "holding_cost": 1, "backlog_cost": 10, "case_pack": 6}],
    "nodes": [{"id": "N"}],
    "positions": [{"sku": "S", "node": "N", "on_hand": 5}],
    "demand": [{"sku": "S", "node": "N", "period": t, "qty": 10} for t in range(4)],
    "suppliers": [{"id": "V", "lead_time_periods": 1, "fixed_order_cost": 7}],
    "supplier_items": [{"supplier": "V", "sku": "S", "unit_cost": 2, "moq": 12}],
    "policy": {"time_limit_seconds": 5},
}


def _doc(**changes):
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        section, field = path.split("__")
        if section == "policy":
            doc["policy"][field] = value
        else:
            doc[section][0][field] = value
    return doc


BLOCKED = {
    "receiving": (_doc(nodes__receiving_capacity=6), "receiving capacity of N (6"),
    "supplier": (_doc(suppliers__capacity_units=6), "capacity of V (6"),
    "budget": (_doc(policy__budget=20.0), "more than the budget"),
}


@pytest.mark.parametrize("case", sorted(BLOCKED))
def test_an_moq_above_every_capacity_proves_the_empty_plan_optimal(case):
    doc, reason = BLOCKED[case]
    p = parse_problem(doc)
    body = solve(p).to_json()
    validate_plan(p, body)
    assert body["orders"] == []
    assert body["status"] == "optimal"
    assert body["bound"] == body["objective"] == 800.0
    assert body["gap"] == 0
    details = [e["detail"] for e in body["exceptions"]]
    assert details[0].startswith("lead time")            # period 0: nothing can arrive yet
    assert len(details) == 4
    for d in details[1:]:
        assert d.startswith("MOQ: the smallest order of S from V (12)"), d
        assert reason in d, d


@pytest.mark.parametrize("case", sorted(BLOCKED))
def test_the_relaxations_know_the_options_are_gone(case):
    p = parse_problem(BLOCKED[case][0])
    S, N, T = p.shape
    assert not order_options(p).any()
    # the bounds alone, without the shortcut for "nothing to order", are tight
    zero = (np.zeros((len(p.supplier_ids), T)), np.zeros((N, T)), 0.0)
    assert lg.lagrangian_value(p, *zero) == pytest.approx(800.0, rel=1e-8)
    assert lg.refine(p, lg.relaxation(p), *zero)[0] == pytest.approx(800.0, rel=1e-8)
    assert decoupled_bound(p) == pytest.approx(800.0)


def test_an_moq_that_fits_one_node_but_not_the_other():
    doc = copy.deepcopy(BASE)
    doc["nodes"] = [{"id": "A", "receiving_capacity": 6}, {"id": "B", "receiving_capacity": 12}]
    doc["positions"] = [{"sku": "S", "node": n, "on_hand": 5} for n in "AB"]
    doc["demand"] = [{"sku": "S", "node": n, "period": t, "qty": 10}
                     for n in "AB" for t in range(4)]
    p = parse_problem(doc)
    body = solve(p).to_json()
    validate_plan(p, body)
    assert body["status"] == "optimal"
    assert body["bound"] == pytest.approx(body["objective"], rel=1e-6)
    assert body["orders"] and {o["node"] for o in body["orders"]} == {"B"}
    at_a = [e["detail"] for e in body["exceptions"] if e["node"] == "A" and e["period"] > 0]
    assert at_a and all(d.startswith("MOQ") and "receiving capacity of A" in d for d in at_a)
    at_b = [e["detail"] for e in body["exceptions"] if e["node"] == "B" and e["period"] > 0]
    assert not any(d.startswith("MOQ") for d in at_b)
    # the Lagrangian relaxation alone already prices node A out
    S, N, T = p.shape
    zero = (np.zeros((1, T)), np.zeros((N, T)), 0.0)
    r = lg.relaxation(p)
    values = lg.refine(p, r, *zero)[3]
    a_only = parse_problem(BLOCKED["receiving"][0])
    assert values[0] == pytest.approx(lg.lagrangian_value(a_only, *zero), rel=1e-8)


def test_an_moq_that_fits_the_capacity_left_in_some_periods_only():
    """Per-period capacities (what the neighbourhood search leaves to a chunk): 12 units in
    order periods 0 and 2, 6 in 1 and 3 — only periods 0 and 2 may order."""
    p = parse_problem(_doc(suppliers__capacity_units=12))
    p = dataclasses.replace(p, supplier_capacity_by_period=np.array([[12, 6, 12, 6]]))
    opts = order_options(p)
    assert opts.usable.tolist() == [[True, False, True, False]]   # period 3: past the horizon
    assert [opts.ok(0, 0, t) for t in range(4)] == [True, False, True, False]
    mip = solve_mip(p, time_limit_s=10, workers=1, seed=0, engine="HIGHS")
    assert mip.proven and mip.orders
    assert {o.order_period for o in mip.orders} <= {0, 2}
    # the relaxations stay below that optimum and see the gaps
    S, N, T = p.shape
    zero = (np.zeros((1, T)), np.zeros((N, T)), 0.0)
    r = lg.relaxation(p)
    value, arrivals, item, _ = lg.refine(p, r, *zero)
    assert value <= mip.objective + 1e-6
    assert arrivals[0, 2] == 0                    # nothing arrives from order period 1
    _, arrivals, _, _ = lg.solve_relaxed(p, r, *zero)
    assert arrivals[0, 2] == 0
    assert decoupled_bound(p) <= mip.objective + 1e-6


def test_a_model_with_no_order_worth_a_variable_reports_its_lp_optimum_as_the_bound():
    """Options exist but none is useful (stock covers everything): the MIP has no integer
    column, HiGHS solves an LP and reports no MIP dual bound; the LP optimum is the bound."""
    p = parse_problem(_doc(positions__on_hand=100))
    mip = solve_mip(p, time_limit_s=10, workers=1, seed=0, engine="HIGHS")
    assert mip.proven and mip.orders == []
    assert mip.bound == pytest.approx(mip.objective) == pytest.approx(300.0)
