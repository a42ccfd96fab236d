"""Degenerate but valid replenishment problems: no suppliers, no supplier items, no SKUs, no
demand, zero capacities, one period, one node. Every strategy returns a valid plan; when
nothing can be ordered the empty plan is the only plan, hence proven optimal."""

from __future__ import annotations

import time

import numpy as np
import pytest

from optimizer.replenishment import lagrange as lg
from optimizer.replenishment import parse_problem
from optimizer.replenishment.plan import plan_cost

from .conftest import STRATEGIES, plan_of


def _backlog_only(doc):
    """Cost of the problem with no orders at all (20 on hand, 10 a period for 6 periods)."""
    return plan_cost(parse_problem(doc), []).total


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("drop", ["suppliers", "supplier_items"])
def test_without_suppliers_all_uncovered_demand_is_backlogged(doc, strategy, drop):
    doc["supplier_items"] = []
    if drop == "suppliers":
        doc["suppliers"] = []
    body = plan_of(doc, strategy)
    assert body["orders"] == []
    assert body["cost"]["backlog"] == 2.0 * (10 + 20 + 30 + 40)
    assert body["objective"] == pytest.approx(_backlog_only(doc))
    assert [e["period"] for e in body["exceptions"] if e["kind"] == "backlog"] == [2, 3, 4, 5]
    if strategy == "optimal":
        assert body["status"] == "optimal" and body["bound"] == body["objective"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_skus_at_all_is_an_empty_plan(doc, strategy):
    doc["skus"], doc["positions"], doc["demand"], doc["supplier_items"] = [], [], [], []
    body = plan_of(doc, strategy)
    assert (body["orders"], body["projection"], body["exceptions"]) == ([], [], [])
    assert body["objective"] == 0 and body["bound"] == 0 and body["gap"] == 0
    assert body["status"] == ("optimal" if strategy == "optimal" else "minmax")


def test_lead_times_beyond_the_horizon_leave_only_the_empty_plan(doc):
    doc["suppliers"][0]["lead_time_periods"] = 6
    body = plan_of(doc, "optimal")
    assert body["orders"] == [] and body["status"] == "optimal"
    assert body["exceptions"][0]["detail"].startswith("lead time")


def test_the_lagrangian_pieces_take_a_problem_without_supplier_items(doc):
    doc["suppliers"], doc["supplier_items"] = [], []
    p = parse_problem(doc)
    r = lg.relaxation(p)
    S, N, T = p.shape
    value, arrivals, item, _ = lg.refine(p, r, np.zeros((0, T)), np.zeros((N, T)), 0.0)
    assert value == pytest.approx(_backlog_only(doc))
    assert not arrivals.any()
    lag = lg.lagrangian_bound(p, upper=value, deadline=time.perf_counter() + 1, r=r)
    lag = lg.share_subgradient(p, lag, r, deadline=time.perf_counter() + 1, upper=value)
    assert lag.bound <= value + 1e-6


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("change", ["no_demand", "zero_supplier_capacity",
                                    "zero_receiving_capacity", "zero_budget", "one_period"])
def test_other_degenerate_inputs_plan_validly(doc, strategy, change):
    if change == "no_demand":
        doc["demand"] = []
    elif change == "zero_supplier_capacity":
        doc["suppliers"][0]["capacity_units"] = 0
    elif change == "zero_receiving_capacity":
        doc["nodes"][0]["receiving_capacity"] = 0
    elif change == "zero_budget":
        doc["policy"]["budget"] = 0.0
    else:
        doc["periods"] = 1
        doc["demand"] = [d for d in doc["demand"] if d["period"] == 0]
    body = plan_of(doc, strategy)
    if change != "no_demand":
        assert body["orders"] == []
        assert body["objective"] == pytest.approx(_backlog_only(doc))
    if strategy == "optimal":
        assert body["status"] == "optimal"
