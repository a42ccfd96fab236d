"""Build a replenishment problem from plain data (what the database layer gathers).

The forecast (``optimizer.forecast``) turns daily history into per-period demand; safety
stock is the configured one or, when None, computed from the forecast error, the lead time
of the SKU's cheapest supplier and its variability, and the service level.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from optimizer.forecast import forecast_demand, safety_stock

from .problem import MAX_QTY, ReplenishmentInputError, ReplenishmentProblem, parse_problem

ANNUAL_HOLDING_RATE = 0.25   # holding cost per year as a share of unit cost
BACKLOG_RATE = 0.10          # backlog cost per period as a share of the price


def _code(row: dict, *keys: str) -> str:
    for k in keys:
        if row.get(k) is not None:
            return str(row[k])
    raise KeyError(f"row has none of {keys}: {row}")


def build_document(*, history: pd.DataFrame, start: dt.date, periods: int, period_days: int,
                   skus: list[dict], nodes: list[dict], positions: list[dict],
                   inbound: list[dict], suppliers: list[dict], supplier_items: list[dict],
                   settings: list[dict] | None = None, service_level: float = 0.95,
                   overrides: list[dict] | None = None, uplifts: list[dict] | None = None,
                   policy: dict[str, Any] | None = None,
                   history_periods: int = 52) -> dict:
    """The contract document (a dict), ready for ``parse_problem``; see ``build_problem``."""
    _check_adjustments(overrides or [], uplifts or [], periods=periods,
                       skus={_code(r, "sku", "code") for r in skus},
                       nodes={_code(r, "id", "code") for r in nodes})
    fc = forecast_demand(history, start=start, periods=periods, period_days=period_days,
                         history_periods=history_periods, overrides=overrides, uplifts=uplifts)
    sku_rows = []
    for r in skus:
        unit = float(r.get("unit_cost") or 0.0)
        price = float(r.get("price") or unit)
        sku_rows.append({
            "sku": _code(r, "sku", "code"),
            "holding_cost": round(float(r["holding_cost"]) if r.get("holding_cost") is not None
                                  else ANNUAL_HOLDING_RATE * unit * period_days / 365, 6),
            "backlog_cost": round(float(r["backlog_cost"]) if r.get("backlog_cost") is not None
                                  else BACKLOG_RATE * price, 6),
            "case_pack": int(r.get("case_pack") or 1),
            "volume": float(r.get("volume") or 1.0)})
    node_rows = [{"id": _code(r, "id", "code"),
                  "receiving_capacity": None if r.get("receiving_capacity") is None
                  else int(r["receiving_capacity"])} for r in nodes]
    sup_rows, lead_std = [], {}
    for r in suppliers:
        code = _code(r, "id", "code")
        if r.get("lead_time_periods") is not None:
            lead = int(r["lead_time_periods"])
        else:
            lead = math.ceil(float(r.get("lead_time_days") or 0) / period_days)
        lead_std[code] = float(r.get("lead_time_std_days") or 0.0) / period_days
        sup_rows.append({"id": code, "lead_time_periods": lead,
                         "capacity_units": None if r.get("capacity_units") is None
                         else int(r["capacity_units"]),
                         "fixed_order_cost": float(r.get("fixed_order_cost") or 0.0)})
    lead_of = {r["id"]: r["lead_time_periods"] for r in sup_rows}
    item_rows = [{"supplier": str(r["supplier"]), "sku": str(r["sku"]),
                  "unit_cost": float(r["unit_cost"]), "moq": int(r.get("moq") or 0)}
                 for r in supplier_items]
    cheapest: dict[str, dict] = {}
    for r in item_rows:
        if r["sku"] not in cheapest or r["unit_cost"] < cheapest[r["sku"]]["unit_cost"]:
            cheapest[r["sku"]] = r
    set_of = {(str(r["sku"]), str(r["node"])): r for r in settings or []}
    on_hand = {(str(r["sku"]), str(r["node"])): int(r.get("on_hand") or 0) for r in positions}
    inbound_of: dict[tuple[str, str], dict[int, int]] = {}
    for r in inbound:
        t = min(max(int(r["period"]), 0), periods - 1)
        d = inbound_of.setdefault((str(r["sku"]), str(r["node"])), {})
        d[t] = d.get(t, 0) + int(r["qty"])
    known_skus = {r["sku"] for r in sku_rows}
    known_nodes = {r["id"] for r in node_rows}
    keys = sorted((set(on_hand) | set(inbound_of) | set(fc) | set(set_of))
                  & {(s, n) for s in known_skus for n in known_nodes})
    pos_rows, demand_rows = [], []
    for sku, node in keys:
        f = fc.get((sku, node))
        mean = f.mean if f is not None else np.zeros(periods)
        qty = np.rint(mean).astype(int)
        for t in range(periods):
            if qty[t] > 0:
                demand_rows.append({"sku": sku, "node": node, "period": t, "qty": int(qty[t])})
        setting = set_of.get((sku, node), {})
        ss = setting.get("safety_stock")
        if ss is None:
            item = cheapest.get(sku)
            lead = lead_of.get(item["supplier"], 0) if item else 0
            std = lead_std.get(item["supplier"], 0.0) if item else 0.0
            ss = safety_stock(sigma_demand=f.sigma if f is not None else 0.0,
                              mean_demand=float(mean.mean()) if len(mean) else 0.0,
                              lead_time_periods=lead, lead_time_std_periods=std,
                              service_level=float(setting.get("service_level")
                                                  or service_level))
        pos_rows.append({"sku": sku, "node": node, "on_hand": on_hand.get((sku, node), 0),
                         "safety_stock": int(ss),
                         "inbound": [{"period": t, "qty": q}
                                     for t, q in sorted(inbound_of.get((sku, node), {}).items())
                                     if q > 0]})
    return {"periods": periods, "period_days": period_days, "skus": sku_rows, "nodes": node_rows,
            "positions": pos_rows, "demand": demand_rows, "suppliers": sup_rows,
            "supplier_items": item_rows, "policy": dict(policy or {})}


def _check_adjustments(overrides: list[dict], uplifts: list[dict], *, periods: int,
                       skus: set[str], nodes: set[str]) -> None:
    """A planner's overrides and uplifts name a known SKU and node (an uplift's node may be
    None: every node) and a period of the horizon; quantities and factors are finite and
    non-negative. Every problem at once, as ``ReplenishmentInputError``."""
    errors: list[dict[str, str]] = []

    def number(value, field: str, most: float) -> None:
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value) and 0 <= value <= most)
        if not ok:
            errors.append({"field": field,
                           "message": f"{value!r} is not a finite number from 0 to {most:g}"})

    for name, rows, value_key in (("overrides", overrides, "qty"), ("uplifts", uplifts, "factor")):
        for k, row in enumerate(rows):
            where = f"{name}[{k}]"
            if row.get("sku") not in skus:
                errors.append({"field": f"{where}.sku",
                               "message": f"unknown SKU {row.get('sku')!r}"})
            node = row.get("node")
            if not (node in nodes or (name == "uplifts" and node is None)):
                errors.append({"field": f"{where}.node", "message": f"unknown node {node!r}"})
            t = row.get("period")
            if type(t) is not int or not 0 <= t < periods:
                errors.append({"field": f"{where}.period",
                               "message": f"period {t!r} is outside 0 … {periods - 1}"})
            number(row.get(value_key), f"{where}.{value_key}", MAX_QTY if name == "overrides"
                   else 1000.0)
    if errors:
        raise ReplenishmentInputError(errors)


def build_problem(**kwargs) -> ReplenishmentProblem:
    """``build_document(**kwargs)`` parsed and validated (raises ReplenishmentInputError).

    Keyword arguments: history (DataFrame sku, node, day, units), start (date: period 0
    begins here), periods, period_days; skus [{sku|code, unit_cost, price, case_pack, volume,
    holding_cost?, backlog_cost?}]; nodes [{id|code, receiving_capacity per period}];
    positions [{sku, node, on_hand}]; inbound [{sku, node, period, qty}]; suppliers [{id|code,
    lead_time_periods | lead_time_days, lead_time_std_days, capacity_units per period,
    fixed_order_cost}]; supplier_items [{supplier, sku, unit_cost, moq}]; settings [{sku, node,
    safety_stock (None = computed), service_level}]; service_level (default 0.95); overrides
    [{sku, node, period, qty}]; uplifts [{sku, node|None, period, factor}] (a known SKU and
    node, a period of the horizon, a finite non-negative qty ≤ 10⁹ or factor ≤ 1000, else
    ReplenishmentInputError naming e.g. ``overrides[0].qty``); policy (the contract's policy
    object); history_periods (default 52).
    """
    return parse_problem(build_document(**kwargs))
