"""Forecast, held-back error against naive, safety stock, and the problem builder."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.forecast import (forecast_demand, forecast_series, holdout_error, period_series,
                                safety_stock)
from optimizer.replenishment import build_problem, solve, validate_plan

START = dt.date(2026, 11, 30)


def daily(sku, node, rates):
    rows = []
    for d, r in enumerate(rates):
        rows.append((sku, node, START - dt.timedelta(days=len(rates) - d), int(r)))
    return pd.DataFrame(rows, columns=["sku", "node", "day", "units"])


def test_daily_history_buckets_into_weeks_ending_before_start():
    h = daily("A", "N", [1] * 21)
    s = period_series(h, start=START, n_periods=4, period_days=7)
    assert s[("A", "N")].tolist() == [0, 7, 7, 7]


def test_a_steady_series_forecasts_its_level_and_a_trend_is_followed():
    assert forecast_series(np.full(30, 50.0), 4).mean == pytest.approx([50] * 4, rel=1e-3)
    up = forecast_series(np.arange(30, dtype=float) * 2 + 10, 3)
    assert up.trend and up.mean[0] > 60


def test_seasonality_is_used_when_two_seasons_exist():
    y = np.tile([10.0, 10, 30, 10], 6)
    f = forecast_series(y, 4, season_length=4)
    assert f.seasonal and f.mean[2] > 2 * f.mean[0]


def test_overrides_replace_and_uplifts_multiply():
    h = daily("A", "N", [10] * 70)
    fc = forecast_demand(h, start=START, periods=4, period_days=7, history_periods=10,
                         overrides=[{"sku": "A", "node": "N", "period": 0, "qty": 5}],
                         uplifts=[{"sku": "A", "node": None, "period": 2, "factor": 2.0}])
    mean = fc[("A", "N")].mean
    assert mean[0] == 5 and mean[2] == pytest.approx(2 * mean[1], rel=1e-6)


def test_holdout_error_beats_naive_on_noisy_seasonal_series():
    rng = np.random.default_rng(0)
    base = np.tile(np.r_[np.full(8, 20.0), np.full(5, 60.0)], 8)
    series = {(str(k), "N"): rng.poisson(base * rng.uniform(0.5, 2)) for k in range(30)}
    err = holdout_error(series, 13, season_length=13)
    assert err.series == 30
    assert err.wape < err.naive_wape


def test_safety_stock_grows_with_service_level_lead_time_and_its_variability():
    base = dict(sigma_demand=10, mean_demand=50, lead_time_periods=2)
    assert safety_stock(**base, service_level=0.5) == 0
    assert safety_stock(**base, service_level=0.99) > safety_stock(**base, service_level=0.9)
    assert safety_stock(**base, lead_time_std_periods=1) > safety_stock(**base)
    # z(0.95) · sqrt(3 · 100) = 1.6449 · 17.32 = 28.49
    assert safety_stock(**base) == 29


def test_build_problem_from_plain_data_plans_and_validates():
    h = pd.concat([daily("A", "N1", [5] * 119), daily("B", "N1", [2] * 119)])
    p = build_problem(
        history=h, start=START, periods=8, period_days=7,
        skus=[{"code": "A", "unit_cost": 4.0, "price": 10.0, "case_pack": 6},
              {"code": "B", "unit_cost": 2.0, "price": 5.0, "case_pack": 1}],
        nodes=[{"code": "N1", "receiving_capacity": 500}],
        positions=[{"sku": "A", "node": "N1", "on_hand": 20}],
        inbound=[{"sku": "B", "node": "N1", "period": 1, "qty": 10}],
        suppliers=[{"code": "S", "lead_time_days": 10, "lead_time_std_days": 3,
                    "capacity_units": 400, "fixed_order_cost": 50.0}],
        supplier_items=[{"supplier": "S", "sku": "A", "unit_cost": 4.0, "moq": 12},
                        {"supplier": "S", "sku": "B", "unit_cost": 2.0, "moq": 0}],
        settings=[{"sku": "B", "node": "N1", "safety_stock": 7, "service_level": None}],
        policy={"safety_stock_penalty": 0.5, "time_limit_seconds": 5})
    assert p.lead_time.tolist() == [2]
    assert p.demand[0, 0].tolist() == [35] * 8
    assert p.safety_stock[1, 0] == 7 and p.safety_stock[0, 0] > 0
    assert p.inbound[1, 0, 1] == 10
    plan = solve(p, time_limit_s=5, workers=1)
    validate_plan(p, plan.to_json())
    assert plan.orders


def test_build_document_is_exported_as_the_docs_say():
    from optimizer.replenishment import build_document
    from optimizer.replenishment.build import build_document as defined

    assert build_document is defined


def _plain_data(**more):
    return dict(history=daily("A", "N1", [5] * 70), start=START, periods=4, period_days=7,
                skus=[{"code": "A", "unit_cost": 4.0, "price": 10.0}],
                nodes=[{"code": "N1"}], positions=[], inbound=[],
                suppliers=[{"code": "S", "lead_time_days": 7}],
                supplier_items=[{"supplier": "S", "sku": "A", "unit_cost": 4.0}], **more)


def test_bad_overrides_and_uplifts_are_refused_naming_the_field():
    # A negative override or uplift silently planned the period as if it had no demand,
    # NaN failed with "cannot convert float NaN to integer", a period of 1.5 with an
    # IndexError, and a period beyond the horizon or an unknown SKU was ignored.
    from optimizer.replenishment import ReplenishmentInputError

    with pytest.raises(ReplenishmentInputError) as info:
        build_problem(**_plain_data(
            overrides=[{"sku": "A", "node": "N1", "period": 0, "qty": -50},
                       {"sku": "A", "node": "N1", "period": 1, "qty": float("nan")},
                       {"sku": "A", "node": "N1", "period": 1.5, "qty": 5},
                       {"sku": "A", "node": "N1", "period": 4, "qty": 5},
                       {"sku": "Z", "node": "N1", "period": 0, "qty": 5},
                       {"sku": "A", "node": "N1", "period": 2, "qty": 5}],
            uplifts=[{"sku": "A", "node": None, "period": 1, "factor": -2},
                     {"sku": "A", "node": "N9", "period": 1, "factor": 2},
                     {"sku": "A", "period": 1, "factor": float("inf")},
                     {"sku": "A", "node": None, "period": 3, "factor": 1.5}]))
    assert [e["field"] for e in info.value.errors] == [
        "overrides[0].qty", "overrides[1].qty", "overrides[2].period", "overrides[3].period",
        "overrides[4].sku", "uplifts[0].factor", "uplifts[1].node", "uplifts[2].factor"]
    p = build_problem(**_plain_data(
        overrides=[{"sku": "A", "node": "N1", "period": 2, "qty": 5}],
        uplifts=[{"sku": "A", "node": None, "period": 3, "factor": 1.5}]))
    assert p.demand[0, 0].tolist() == [35, 35, 5, 52]
