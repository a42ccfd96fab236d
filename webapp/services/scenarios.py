"""Scenario runs and the database: a snapshot of the live ledger as a starting
world, and finished runs stored so the web app can list and compare them."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import queries
from ledger.models import (
    Channel, DailyDemand, Lane, Node, PurchaseOrder, PurchaseOrderLine, ScenarioRun, Sku,
    Supplier, SupplierItem,
)
from scenarios.world import World
from webapp.services.paging import older_than


def world_from_db(session: Session, *, today=None) -> World:
    """The live ledger's master data, ATP and open POs, frozen for a simulation."""
    import datetime as dt
    today = today or dt.datetime.now(dt.timezone.utc).date()
    f = float
    skus = [{"code": s.code, "category": s.category, "unit_cost": f(s.unit_cost),
             "price": f(s.price), "case_pack": s.case_pack}
            for s in session.scalars(select(Sku).where(Sku.active.is_(True)).order_by(Sku.code))]
    nodes = [{"code": n.code, "kind": n.kind, "region": n.region,
              "capacity_units_per_day": n.capacity_units_per_day,
              "capacity_orders_per_day": n.capacity_orders_per_day,
              "receiving_capacity_per_day": n.receiving_capacity_per_day,
              "handling_cost_per_order": f(n.handling_cost_per_order),
              "handling_cost_per_unit": f(n.handling_cost_per_unit)}
             for n in session.scalars(select(Node).where(Node.active.is_(True)).order_by(Node.code))]
    active = {n["code"] for n in nodes}
    lanes = [{"node": code, "region": l.region, "service": l.service,
              "cost_per_shipment": f(l.cost_per_shipment), "cost_per_unit": f(l.cost_per_unit),
              "transit_days": l.transit_days}
             for l, code in session.execute(select(Lane, Node.code).join(Node)) if code in active]
    channels = [{"code": c.code, "nodes": [n.code for n in c.nodes if n.code in active],
                 "backorder_penalty_per_unit": (None if c.backorder_penalty_per_unit is None
                                                else f(c.backorder_penalty_per_unit))}
                for c in session.scalars(select(Channel))]
    suppliers = [{"code": s.code, "lead_time_days": s.lead_time_days,
                  "capacity_units_per_period": s.capacity_units_per_period,
                  "fixed_order_cost": f(s.fixed_order_cost)}
                 for s in session.scalars(select(Supplier))]
    items = [{"supplier": sup, "sku": sku, "unit_cost": f(i.unit_cost), "moq": i.moq}
             for i, sup, sku in session.execute(
                 select(SupplierItem, Supplier.code, Sku.code)
                 .join(Supplier, Supplier.id == SupplierItem.supplier_id)
                 .join(Sku, Sku.id == SupplierItem.sku_id))]
    units: dict[str, dict[str, float]] = defaultdict(dict)
    for sku, node, u in session.execute(
            select(Sku.code, Node.code, func.sum(DailyDemand.units))
            .join(Sku, Sku.id == DailyDemand.sku_id).join(Node, Node.id == DailyDemand.node_id)
            .group_by(Sku.code, Node.code)):
        units[sku][node] = float(u)
    total = sum(sum(v.values()) for v in units.values()) or 1.0
    popularity = {s["code"]: sum(units.get(s["code"], {}).values()) / total for s in skus}
    if not any(popularity.values()):
        popularity = {s["code"]: 1.0 / len(skus) for s in skus}
    share = {sku: {n: u / sum(v.values()) for n, u in v.items()} for sku, v in units.items()}
    stock = {(b.sku, b.node): b.available for b in queries.balances(session)
             if b.node in active and b.available > 0}
    inbound = [(sku, node, max(0, (d - today).days), int(q)) for sku, node, d, q in session.execute(
        select(Sku.code, Node.code, PurchaseOrderLine.expected_date,
               PurchaseOrderLine.qty_ordered - PurchaseOrderLine.qty_received)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .join(Sku, Sku.id == PurchaseOrderLine.sku_id).join(Node, Node.id == PurchaseOrder.node_id)
        .where(PurchaseOrder.status.in_(("placed", "partially_received")),
               PurchaseOrderLine.qty_ordered > PurchaseOrderLine.qty_received))]
    return World(skus=skus, popularity=popularity, node_share=share, nodes=nodes, lanes=lanes,
                 channels=channels, suppliers=suppliers, supplier_items=items, stock=stock,
                 inbound=inbound)


def store_run(session: Session, *, name: str, scenario: dict, summary: dict, runs: int,
              seconds: float, report_dir: str | None) -> int:
    row = ScenarioRun(name=name, scenario=scenario, summary=summary, runs=runs,
                      seconds=round(seconds, 3), report_dir=report_dir)
    session.add(row)
    session.flush()
    return row.id


def list_runs(session: Session, limit: int = 50, before_id: int | None = None) -> list[dict]:
    """Runs newest first; ``before_id`` pages (runs older than that id)."""
    stmt = select(ScenarioRun).order_by(ScenarioRun.id.desc()).limit(max(1, min(limit, 501)))
    if before_id is not None:
        stmt = stmt.where(older_than(ScenarioRun.id, before_id))
    return [{"id": r.id, "name": r.name, "created_at": r.created_at.isoformat(), "runs": r.runs,
             "seconds": float(r.seconds), "report_dir": r.report_dir}
            for r in session.scalars(stmt)]
