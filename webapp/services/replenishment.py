"""Replenishment from the database: gather positions, open POs, demand history
and supplier data; plan; store the proposals as draft purchase orders.

The planner's proposals replace the previous run's untouched drafts, so
running the plan twice never leaves two proposals for the same need; a draft a
planner edited is kept, and counted as coming (like a placed order) so that the
next plan does not propose its units again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ledger.models import (
    DailyDemand, Node, PurchaseOrder, PurchaseOrderLine, Sku, SkuNodeSetting, StockPosition,
    Supplier, SupplierItem, utcnow,
)

PLANNER = "planner"


@dataclass(frozen=True)
class PlanningData:
    """Everything the replenishment problem is built from, as plain data."""

    start: dt.date
    periods: int
    period_days: int
    history: pd.DataFrame           # columns sku, node, day, units
    skus: list[dict]                # code, unit_cost, price, case_pack, volume
    nodes: list[dict]               # code, receiving_capacity (per period)
    positions: list[dict]           # sku, node, on_hand
    inbound: list[dict]             # sku, node, period, qty (open PO lines, edited drafts)
    suppliers: list[dict]           # code, lead_time_days, lead_time_std_days, capacity_units (per period), fixed_order_cost
    supplier_items: list[dict]      # supplier, sku, unit_cost, moq
    settings: list[dict]            # sku, node, safety_stock (None = computed), service_level


def gather(session: Session, *, start: dt.date, periods: int, period_days: int,
           history_days: int = 364) -> PlanningData:
    sku_rows = session.execute(select(Sku.id, Sku.code, Sku.unit_cost, Sku.price, Sku.case_pack,
                                      Sku.volume_l).where(Sku.active.is_(True))).all()
    sku_code = {r.id: r.code for r in sku_rows}
    node_rows = session.execute(select(Node.id, Node.code, Node.receiving_capacity_per_day)
                                .where(Node.active.is_(True))).all()
    node_code = {r.id: r.code for r in node_rows}

    since = start - dt.timedelta(days=history_days)
    hist = session.execute(
        select(DailyDemand.sku_id, DailyDemand.node_id, DailyDemand.day,
               func.sum(DailyDemand.units))
        .where(DailyDemand.day >= since, DailyDemand.day < start)
        .group_by(DailyDemand.sku_id, DailyDemand.node_id, DailyDemand.day)).all()
    history = pd.DataFrame(
        [(sku_code[s], node_code[n], d, int(u)) for s, n, d, u in hist
         if s in sku_code and n in node_code],
        columns=["sku", "node", "day", "units"])

    positions = [
        {"sku": sku_code[s], "node": node_code[n], "on_hand": int(a)}
        for s, n, a in session.execute(select(StockPosition.sku_id, StockPosition.node_id,
                                              StockPosition.available))
        if s in sku_code and n in node_code
    ]
    inbound: dict[tuple, int] = defaultdict(int)
    open_lines = session.execute(
        select(PurchaseOrderLine.sku_id, PurchaseOrder.node_id, PurchaseOrderLine.expected_date,
               PurchaseOrderLine.qty_ordered - PurchaseOrderLine.qty_received)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(or_(PurchaseOrder.status.in_(("placed", "partially_received")),
                   # a proposal a planner edited is kept by the next plan (only untouched
                   # ones are replaced), so it is counted as coming, not proposed again
                   (PurchaseOrder.status == "draft")
                   & or_(PurchaseOrder.created_by.is_(None),
                         PurchaseOrder.created_by != PLANNER)),
               PurchaseOrderLine.qty_ordered > PurchaseOrderLine.qty_received))
    for s, n, expected, qty in open_lines:
        if s not in sku_code or n not in node_code:
            continue
        # Late lines are expected now; lines beyond the horizon do not count.
        period = max(0, (expected - start).days // period_days)
        if period < periods:
            inbound[(sku_code[s], node_code[n], period)] += int(qty)

    suppliers = [
        {"code": s.code, "lead_time_days": s.lead_time_days,
         "lead_time_std_days": float(s.lead_time_std_days or 0),
         "capacity_units": s.capacity_units_per_period, "fixed_order_cost": float(s.fixed_order_cost)}
        for s in session.scalars(select(Supplier).order_by(Supplier.code))
    ]
    items = [
        {"supplier": sup, "sku": sku_code[i.sku_id], "unit_cost": float(i.unit_cost), "moq": i.moq}
        for i, sup in session.execute(select(SupplierItem, Supplier.code)
                                      .join(Supplier, Supplier.id == SupplierItem.supplier_id))
        if i.sku_id in sku_code
    ]
    settings = [
        {"sku": sku_code[x.sku_id], "node": node_code[x.node_id], "safety_stock": x.safety_stock,
         "service_level": float(x.service_level) if x.service_level is not None else None}
        for x in session.scalars(select(SkuNodeSetting))
        if x.sku_id in sku_code and x.node_id in node_code
    ]
    return PlanningData(
        start=start, periods=periods, period_days=period_days, history=history,
        skus=[{"code": r.code, "unit_cost": float(r.unit_cost), "price": float(r.price),
               "case_pack": r.case_pack, "volume": float(r.volume_l or 1)} for r in sku_rows],
        nodes=[{"code": r.code, "receiving_capacity": (
            None if r.receiving_capacity_per_day is None
            else r.receiving_capacity_per_day * period_days)} for r in node_rows],
        positions=positions,
        inbound=[{"sku": k[0], "node": k[1], "period": k[2], "qty": q} for k, q in inbound.items()],
        suppliers=suppliers, supplier_items=items, settings=settings)


def plan_from_database(session: Session, *, start: dt.date, periods: int = 13,
                       period_days: int = 7, strategy: str = "optimal",
                       time_limit_s: float = 30.0, service_level: float = 0.95,
                       workers: int = 1, seed: int = 0) -> tuple[dict, PlanningData]:
    """Gather, build the contract problem (forecast and safety stock included),
    solve and validate. Returns the plan document and what it was built from."""
    from optimizer import replenishment
    data = gather(session, start=start, periods=periods, period_days=period_days)
    problem = replenishment.build_problem(
        history=data.history, start=start, periods=periods, period_days=period_days,
        skus=data.skus, nodes=[{"code": n["code"], "receiving_capacity": n["receiving_capacity"]}
                               for n in data.nodes],
        positions=data.positions, inbound=data.inbound,
        suppliers=[{**s, "capacity_units": s["capacity_units"]} for s in data.suppliers],
        supplier_items=data.supplier_items, settings=data.settings,
        service_level=service_level,
        policy={"time_limit_seconds": time_limit_s, "strategy": strategy})
    plan = replenishment.solve(problem, strategy=strategy, time_limit_s=time_limit_s,
                               workers=workers, seed=seed)
    replenishment.validate_plan(problem, plan)
    return plan.to_json(), data


def raise_plan_exceptions(session: Session, plan: dict, *, start: dt.date,
                          period_days: int) -> int:
    """Planned backlog goes to the exceptions queue: one entry per SKU and node
    (its worst period, with the binding cause); a later plan refreshes it.
    Below-safety periods stay in the plan's own exception list — queueing each
    of them would bury the backlogs a planner must act on."""
    from ledger.models import ExceptionItem
    worst: dict[tuple, dict] = {}
    for e in plan.get("exceptions", []):
        if e["kind"] != "backlog":
            continue
        key = (e["sku"], e["node"], e["kind"])
        if key not in worst or e["qty"] > worst[key]["qty"]:
            worst[key] = e
    n = 0
    for (sku, node, kind), e in sorted(worst.items()):
        when = start + dt.timedelta(days=e["period"] * period_days)
        dedupe = f"plan_{kind}:{sku}:{node}"
        row = session.scalar(select(ExceptionItem).where(ExceptionItem.dedupe_key == dedupe))
        message = (f"plan: {sku} at {node} {kind.replace('_', ' ')} of {e['qty']} in the week "
                   f"of {when.isoformat()}" + (f" — {e['detail']}" if e.get("detail") else ""))
        if row is None:
            session.add(ExceptionItem(kind=f"plan_{kind}", severity="warning" if kind ==
                                      "below_safety" else "critical", message=message,
                                      sku_code=sku, node_code=node, details=e,
                                      dedupe_key=dedupe))
            n += 1
        else:
            row.message, row.details = message, e
            if row.status == "resolved":
                row.status = "open"
    session.flush()
    return n


def store_proposals(session: Session, plan: dict, *, start: dt.date, period_days: int,
                    actor: str = PLANNER, run_note: str | None = None) -> list[str]:
    """Replace the planner's untouched draft POs with this plan's orders.

    One draft PO per (supplier, node, order period); its expected date is the
    arrival period's first day. Drafts a planner edited (created_by changed)
    are kept; ``gather`` counts them as inbound.
    """
    old = select(PurchaseOrder.id).where(PurchaseOrder.status == "draft",
                                         PurchaseOrder.created_by == PLANNER)
    session.execute(delete(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id.in_(old)))
    session.execute(delete(PurchaseOrder).where(PurchaseOrder.status == "draft",
                                                PurchaseOrder.created_by == PLANNER))
    suppliers = {s.code: s.id for s in session.scalars(select(Supplier))}
    nodes = {n.code: n.id for n in session.scalars(select(Node))}
    skus = {s.code: s.id for s in session.scalars(select(Sku))}
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for o in plan["orders"]:
        grouped[(o["supplier"], o["node"], o["order_period"])].append(o)
    run = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"  # unique per plan run
    codes = []
    for n, ((supplier, node, period), lines) in enumerate(sorted(grouped.items())):
        arrival = start + dt.timedelta(days=lines[0]["arrival_period"] * period_days)
        place_on = start + dt.timedelta(days=period * period_days)
        code = f"PROP-{run}-{n + 1:04d}"
        po = PurchaseOrder(code=code, supplier_id=suppliers[supplier], node_id=nodes[node],
                           status="draft", expected_date=arrival, created_by=actor,
                           note=(f"proposed by the planner: place on {place_on.isoformat()}"
                                 + (f"; {run_note}" if run_note else "")))
        po.lines = [PurchaseOrderLine(sku_id=skus[o["sku"]], qty_ordered=o["qty"],
                                      unit_cost=o["unit_cost"], expected_date=arrival)
                    for o in lines]
        session.add(po)
        codes.append(code)
    session.flush()
    return codes
