"""Order intake and lifecycle: plain functions over a unit of work and a router.

``submit_order`` is the real-time path: validate, route the one order against
current ATP, and reserve its shipments in the same transaction. Reservations
are optimistic (conditional updates; see ``route_and_reserve``): an order that
loses a race for stock is routed again on fresh ATP, and the last attempt
locks the positions of its SKUs (in canonical order) before reading, so two
orders racing for the last unit are serialised, and the second is routed
elsewhere or backordered — never an error.

Lock order, the same on every path so that none deadlocks with another:
order rows first, by id (a lifecycle action locks its one order; a backorder
refill or a re-optimisation locks all of its orders in one statement,
``lock_orders``), then stock positions by (sku id, node id) (``post`` and
``lock_positions``), then the orders' shipments and exceptions. A path that
decided from rows read before its locks reads them again after.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ledger.db import unit_of_work
from ledger.errors import InsufficientStock, LedgerError, NotFound, UnknownSku
from ledger.models import (
    ExceptionItem, Node, Order, OrderLine, OrderStatusChange, Shipment, ShipmentLine,
    Sku, utcnow,
)
from ledger.movements import Movement
from ledger.posting import CodeCache, lock_positions, post
from ledger.rawsql import fetch, fetch_after, insert_rows
from optimizer.routing import problem as contract
from webapp.services.routing_input import build_problem, master_data, order_document

MAX_LINES_PER_ORDER = contract.MAX_LINES_PER_ORDER  # the router refuses more
MAX_QTY_PER_LINE = 1_000_000
Router = Callable[[dict], dict]  # routing-contract problem JSON -> plan JSON
log = logging.getLogger("stockroute.orders")


class OrderLineIn(contract.LineIn):
    """The contract's line (strict: ``"2"``, ``2.0`` and ``true`` are not quantities),
    with at least one unit."""

    qty: int = Field(gt=0, le=MAX_QTY_PER_LINE)


class OrderIn(contract.OrderIn):
    """The routing contract's order object, plus what a storefront knows of it.

    Its fields, types, limits and strictness are the contract's
    (``optimizer.routing.problem.OrderIn``: no coercion, finite costs up to
    1e9), so an order accepted here is one the router accepts; ``region`` and
    ``service`` are narrowed to what the orders table stores.
    """

    region: str = Field(min_length=1, max_length=64)
    service: str = Field(default="standard", min_length=1, max_length=32)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES_PER_ORDER)
    customer_ref: str | None = Field(default=None, max_length=128)
    promised_date: dt.date | None = Field(default=None, strict=False,
                                          description="ISO date, e.g. 2026-12-01")
    priority: int = Field(default=0, ge=0, le=100)


class DuplicateOrder(LedgerError):
    code = "duplicate_order"
    status = 409


class InvalidTransition(LedgerError):
    code = "invalid_transition"
    status = 409


class UnknownChannel(LedgerError):
    code = "unknown_channel"
    status = 422


class UnknownRegion(LedgerError):
    """No lane in the network serves the region (most likely a typo)."""

    code = "unknown_region"
    status = 422


class UnknownService(LedgerError):
    """No lane serves the region with this service level."""

    code = "unknown_service"
    status = 422


def check_destination(master, region: str, service: str) -> None:
    """Refuse a region, or a service in it, that no lane serves: such an order
    could only ever be backordered (``no_eligible_node``). A region served only
    by nodes that are inactive today is not refused; the order waits for them."""
    if (region, service) in master.served:
        return
    if not any(r == region for r, _ in master.served):
        raise UnknownRegion(f"no lane serves region {region!r}", field="region")
    services = sorted(s for r, s in master.served if r == region)
    raise UnknownService(f"no lane serves region {region!r} with service {service!r} "
                         f"(served: {', '.join(services)})", field="service")


@dataclass(frozen=True)
class RoutingSettings:
    time_limit_s: float = 2.0
    strategy: str = "optimal"
    split_penalty: float = 0.0
    default_backorder_penalty: float = 1000.0


def _record(order: Order, to_status: str, actor: str, reason: str | None = None) -> None:
    order.history.append(OrderStatusChange(from_status=order.status if order.id else None,
                                           to_status=to_status, actor=actor, reason=reason))
    order.status = to_status
    order.updated_at = utcnow()


@dataclass
class RoutingJob:
    """One order to route, and which of its lines with what quantities."""

    order: Order
    lines: list[tuple[OrderLine, int]]


OPTIMISTIC_ATTEMPTS = 3


def route_and_reserve(session: Session, jobs: list[RoutingJob], router: Router,
                      settings: RoutingSettings, actor: str, *, fresh: bool = False) -> dict:
    """Route ``jobs`` on current ATP and reserve the plan, in the caller's transaction.

    Optimistic first: ATP is read without locks, and the reservations are
    conditional updates, so orders for different stock never wait on each
    other. If another order took the stock meanwhile, the reservations are
    rolled back to a savepoint and the order is routed again on fresh ATP;
    the last attempt locks the SKUs' positions (canonical order) before
    reading, so it cannot lose. Racing orders are therefore never refused:
    each is routed elsewhere or backordered.
    """
    sku_ids = sorted({line.sku_id for job in jobs for line, _ in job.lines})
    docs = [order_document(job.order, job.lines) for job in jobs]
    for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
        last = attempt == OPTIMISTIC_ATTEMPTS
        if last:
            lock_positions(session, sku_ids)
        problem = build_problem(session, docs, sku_ids=sku_ids,
                                time_limit_s=settings.time_limit_s, strategy=settings.strategy,
                                split_penalty=settings.split_penalty,
                                default_backorder_penalty=settings.default_backorder_penalty,
                                fresh=fresh)
        plan = router(problem)
        moves = [Movement("reserve", line["sku"], line["qty"], shipment["node"],
                          doc_type="order", doc_id=shipment["order"])
                 for shipment in plan["shipments"] for line in shipment["lines"]]
        try:
            if moves:
                with session.begin_nested():
                    post(session, moves, actor=actor)
        except InsufficientStock:
            if last:
                raise
            continue
        record_plan(session, jobs, problem, plan, actor)
        return plan
    raise AssertionError("unreachable")  # the last attempt returns or raises


def record_plan(session: Session, jobs: list[RoutingJob], problem: dict, plan: dict,
                actor: str) -> None:
    """Write the plan's shipments, backorders, exceptions and status changes
    (its reservations are already posted)."""
    by_code = {job.order.code: job for job in jobs}
    nodes = {n.code: n for n in session.scalars(select(Node))}
    lanes = {(l["node"], l["region"], l["service"]): l for l in problem["lanes"]}
    node_docs = {n["id"]: n for n in problem["nodes"]}
    for shipment in plan["shipments"]:
        job = by_code[shipment["order"]]
        order = job.order
        lane = lanes[(shipment["node"], order.region, order.service)]
        node = node_docs[shipment["node"]]
        units = sum(l["qty"] for l in shipment["lines"])
        cost = (lane["cost_per_shipment"] + node["handling_cost_per_order"]
                + units * (lane["cost_per_unit"] + node["handling_cost_per_unit"]))
        row = Shipment(order_id=order.id, node=nodes[shipment["node"]], status="planned",
                       transit_days=shipment["transit_days"], cost=Decimal(f"{cost:.4f}"),
                       explanation=shipment.get("explanation"))
        for line in shipment["lines"]:
            order_line, _ = job.lines[line["line"]]
            row.lines.append(ShipmentLine(order_line=order_line, qty=line["qty"]))
        order.shipments.append(row)
    short: dict[str, list] = {}
    for job in jobs:
        for order_line, _ in job.lines:
            order_line.qty_backordered = 0
            order_line.backorder_reason = None
    for b in plan["backorders"]:
        job = by_code[b["order"]]
        order_line, _ = job.lines[b["line"]]
        order_line.qty_backordered = b["qty"]
        order_line.backorder_reason = b["reason"]
        short.setdefault(job.order.code, []).append(b)
        _raise_exception(session, "backorder", job.order, order_line, b)
    for job in jobs:
        status = "backordered" if job.order.code in short else "routed"
        if status != job.order.status:
            _record(job.order, status, actor, reason=f"routing: {plan.get('status')}")
    session.flush()


def _raise_exception(session: Session, kind: str, order: Order, line: OrderLine, b: dict) -> None:
    severity = "critical" if b["reason"] in ("no_eligible_node",) else "warning"
    dedupe = f"{kind}:{order.code}:{line.line_no}"
    message = (f"{b['qty']} of {line.qty} × {line.sku.code} on order {order.code} "
               f"backordered: {b['reason'].replace('_', ' ')}"
               + (f" — {b['explanation']}" if b.get("explanation") else ""))
    existing = session.scalar(select(ExceptionItem).where(ExceptionItem.dedupe_key == dedupe))
    if existing is not None:  # still short: keep one entry, refresh what it says
        existing.details = {"line": line.line_no, "qty": b["qty"], "reason": b["reason"]}
        existing.message = message
        if existing.status == "resolved":
            existing.status = "open"
        return
    session.add(ExceptionItem(
        kind=kind, severity=severity, order_code=order.code, sku_code=line.sku.code,
        message=message, details={"line": line.line_no, "qty": b["qty"], "reason": b["reason"]},
        dedupe_key=dedupe))


def submit_order(session: Session, data: OrderIn, *, router: Router, actor: str,
                 settings: RoutingSettings = RoutingSettings()) -> dict:
    """Validate, route on current ATP, write and reserve one order; its view.

    The real-time path, so it speaks the driver's SQL (``ledger.rawsql``)
    instead of building ORM objects: master data and codes come from
    per-process caches, ATP is one query, the order, its lines, history and
    shipments are one statement on PostgreSQL (one multi-row INSERT per table
    on SQLite), and the answer is built from the values in hand. Reservations
    are optimistic and come last (see ``route_and_reserve``): the writes and
    the reservations of an attempt follow one savepoint, so a lost race rolls
    both back and the order is routed again on fresh ATP; the last attempt
    locks the SKUs' positions first and cannot lose.
    """
    conn = session.connection()
    master = master_data(session)
    if data.channel not in master.channel_ids:
        master = master_data(session, refresh=True)  # a channel created since the last read
        if data.channel not in master.channel_ids:
            raise UnknownChannel(f"unknown channel {data.channel!r}", field="channel")
    if (data.region, data.service) not in master.served:
        master = master_data(session, refresh=True)  # a lane created since the last read
        check_destination(master, data.region, data.service)
    sku_ids = _sku_ids(conn, data)
    sku_codes = {id_: code for code, id_ in sku_ids.items()}
    order_doc = {
        "id": data.id, "region": data.region, "service": data.service,
        "channel": data.channel, "ship_complete": data.ship_complete,
        "max_shipments": data.max_shipments, "max_transit_days": data.max_transit_days,
        "backorder_penalty_per_unit": data.backorder_penalty_per_unit,
        "lines": [{"sku": line.sku, "qty": line.qty} for line in data.lines],
    }
    ids = sorted(sku_codes)
    for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
        last = attempt == OPTIMISTIC_ATTEMPTS
        if last:
            lock_positions(conn, ids)
        problem = {
            "nodes": master.nodes,
            "inventory": _atp(conn, ids, master.node_codes, sku_codes),
            "lanes": [l for l in master.lanes if l["region"] == data.region],
            "orders": [order_doc],
            "policy": {
                "split_penalty": settings.split_penalty,
                "backorder_penalty_per_unit": settings.default_backorder_penalty,
                "channel_backorder_penalty": master.channel_penalty,
                "channel_nodes": master.channel_nodes,
                "max_shipments_per_order": None,
                "time_limit_seconds": settings.time_limit_s,
                "strategy": settings.strategy,
            },
        }
        plan = router(problem)
        moves = [Movement("reserve", line["sku"], line["qty"], shipment["node"],
                          doc_type="order", doc_id=shipment["order"])
                 for shipment in plan["shipments"] for line in shipment["lines"]]
        try:
            # The savepoint is set with the first attempt's writes (one round
            # trip) and kept to the end: COMMIT releases it.
            view = _write_order(conn, data, master, sku_ids, problem, plan, actor,
                                savepoint=attempt == 0)
            if moves:  # last: row locks on stock are held only from here to commit
                post(conn, moves, actor=actor)
        except LedgerError as err:
            fetch(conn, f"ROLLBACK TO {_SAVEPOINT}")
            if last or not isinstance(err, InsufficientStock):
                raise
            continue
        return view
    raise AssertionError("unreachable")  # the last attempt returns or raises


def _sku_ids(conn, data: OrderIn) -> dict[str, int]:
    """SKU code -> id for the order's lines, refusing the first unknown line."""
    cache = CodeCache.for_connection(conn)
    try:
        known, _ = cache.resolve(conn, {line.sku for line in data.lines}, set())
    except UnknownSku:
        known, _ = cache.view(conn)
        for i, line in enumerate(data.lines):
            if line.sku not in known:
                raise UnknownSku(f"unknown sku {line.sku!r}", field=f"lines[{i}].sku") from None
        raise
    return {line.sku: known[line.sku] for line in data.lines}


_ATP_SQL: dict[tuple[str, int], str] = {}


def _atp(conn, sku_ids: list[int], node_codes: dict[int, str],
         sku_codes: dict[int, str]) -> list[dict]:
    """The routing inventory of these SKUs at active nodes: ATP = available
    minus the promise buffer, where positive (``ledger.queries.atp_table``)."""
    dialect = conn.dialect.name
    sql = _ATP_SQL.get((dialect, len(sku_ids)))
    if sql is None:
        mark = "%s" if dialect == "postgresql" else "?"
        sql = _ATP_SQL[(dialect, len(sku_ids))] = (
            "SELECT p.node_id, p.sku_id, p.available - COALESCE(s.promise_buffer, 0)"
            " FROM stock_positions p LEFT JOIN sku_node_settings s"
            " ON s.sku_id = p.sku_id AND s.node_id = p.node_id"
            f" WHERE p.sku_id IN ({', '.join([mark] * len(sku_ids))})"
            " AND p.available - COALESCE(s.promise_buffer, 0) > 0"
            " ORDER BY p.sku_id, p.node_id")
    return [{"node": node_codes[node], "sku": sku_codes[sku], "available": int(qty)}
            for node, sku, qty in fetch(conn, sql, tuple(sku_ids))
            if node in node_codes]


_SAVEPOINT = "SAVEPOINT order_intake"
_ORDERS = Order.__table__
_ORDER_LINES = OrderLine.__table__
_HISTORY = OrderStatusChange.__table__
_SHIPMENTS = Shipment.__table__
_SHIPMENT_LINES = ShipmentLine.__table__
_EXCEPTIONS = ExceptionItem.__table__
_ORDER_COLUMNS = ("code", "channel_id", "region", "service", "ship_complete", "max_shipments",
                  "max_transit_days", "backorder_penalty_per_unit", "customer_ref",
                  "promised_date", "priority", "status", "created_at", "updated_at")
_EXCEPTION_UPSERT = (
    "ON CONFLICT (dedupe_key) DO UPDATE SET details = excluded.details, status = CASE"
    " WHEN exceptions.status = 'resolved' THEN 'open' ELSE exceptions.status END"
    " RETURNING id, kind, severity, status, message")


def _write_rows(conn, order_row, line_rows, history_rows, shipment_rows,
                shipment_line_rows, savepoint: bool) -> dict[int, int] | None:
    """One INSERT per table; {node id: shipment id}, or None if the code is taken."""
    if savepoint:
        fetch(conn, _SAVEPOINT)
    rows = insert_rows(conn, _ORDERS, _ORDER_COLUMNS, [order_row],
                       "ON CONFLICT (code) DO NOTHING RETURNING id")
    if not rows:
        return None
    order_id = rows[0][0]
    line_ids = dict((no, id_) for id_, no in insert_rows(
        conn, _ORDER_LINES, _LINE_COLUMNS, [(order_id, *r) for r in line_rows],
        "RETURNING id, line_no"))
    insert_rows(conn, _HISTORY, _HISTORY_COLUMNS, [(order_id, *r) for r in history_rows])
    if not shipment_rows:
        return {}
    ids = dict((node_id, id_) for id_, node_id in insert_rows(
        conn, _SHIPMENTS, _SHIPMENT_COLUMNS,
        [(order_id, node_id, "planned", *rest) for node_id, *rest in shipment_rows],
        "RETURNING id, node_id"))
    insert_rows(conn, _SHIPMENT_LINES, ("shipment_id", "order_line_id", "qty"),
                [(ids[node_id], line_ids[line_no], qty)
                 for node_id, line_no, qty in shipment_line_rows])
    return ids


_LINE_COLUMNS = ("order_id", "line_no", "sku_id", "qty", "qty_backordered", "backorder_reason")
_HISTORY_COLUMNS = ("order_id", "from_status", "to_status", "actor", "reason", "at")
_SHIPMENT_COLUMNS = ("order_id", "node_id", "status", "transit_days", "cost", "explanation",
                     "created_at")
_FUSED_SQL = (
    f"WITH o AS (INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) VALUES "
    f"({', '.join(['%s'] * len(_ORDER_COLUMNS))}) ON CONFLICT (code) DO NOTHING RETURNING id),"
    f" l AS (INSERT INTO order_lines ({', '.join(_LINE_COLUMNS)})"
    " SELECT o.id, v.* FROM o,"
    " unnest(%s::integer[], %s::integer[], %s::integer[], %s::integer[], %s::text[]) AS v"
    " RETURNING id, line_no),"
    f" h AS (INSERT INTO order_status_history ({', '.join(_HISTORY_COLUMNS)})"
    " SELECT o.id, v.* FROM o,"
    " unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[]) AS v),"
    f" s AS (INSERT INTO shipments ({', '.join(_SHIPMENT_COLUMNS)})"
    " SELECT o.id, v.node_id, 'planned', v.transit_days, v.cost, v.explanation, v.created_at"
    " FROM o, unnest(%s::integer[], %s::integer[], %s::numeric[], %s::text[],"
    " %s::timestamptz[]) AS v (node_id, transit_days, cost, explanation, created_at)"
    " RETURNING id, node_id),"
    " sl AS (INSERT INTO shipment_lines (shipment_id, order_line_id, qty)"
    " SELECT s.id, l.id, v.qty FROM unnest(%s::integer[], %s::integer[], %s::integer[])"
    " AS v (node_id, line_no, qty) JOIN s ON s.node_id = v.node_id"
    " JOIN l ON l.line_no = v.line_no)"
    " SELECT o.id, s.node_id, s.id FROM o LEFT JOIN s ON true")


def _columns(rows: list[tuple], n: int) -> list[list]:
    return [list(c) for c in zip(*rows)] if rows else [[] for _ in range(n)]


def _write_rows_fused(conn, order_row, line_rows, history_rows, shipment_rows,
                      shipment_line_rows, savepoint: bool) -> dict[int, int] | None:
    """PostgreSQL: the order, lines, history, shipments and shipment lines in
    one statement (data-modifying CTEs, each feeding the next its ids; rows
    passed as one array per column, so the statement text never changes and
    stays prepared): one round trip instead of five. No row back means the
    code is taken."""
    params = [*order_row, *_columns(line_rows, 5), *_columns(history_rows, 5),
              *_columns(shipment_rows, 5), *_columns(shipment_line_rows, 3)]
    result = (fetch_after(conn, _SAVEPOINT, _FUSED_SQL, tuple(params)) if savepoint
              else fetch(conn, _FUSED_SQL, tuple(params)))
    if not result:
        return None
    return {node_id: id_ for _, node_id, id_ in result if id_ is not None}


def _write_order(conn, data: OrderIn, master, sku_ids: dict[str, int], problem: dict,
                 plan: dict, actor: str, *, savepoint: bool = False) -> dict:
    """Write a routed order (status, lines, history, shipments, backorders and
    their exceptions), in one statement on PostgreSQL and one INSERT per table
    elsewhere; return its view."""
    now = utcnow()
    short: dict[int, dict] = {}
    for b in plan["backorders"]:  # one per line; were there two, the last would count
        short[b["line"]] = b
    status = "backordered" if short else "routed"
    routed_at = utcnow()
    reason = f"routing: {plan.get('status')}"
    order_row = (data.id, master.channel_ids[data.channel], data.region, data.service,
                 data.ship_complete, data.max_shipments, data.max_transit_days,
                 data.backorder_penalty_per_unit, data.customer_ref, data.promised_date,
                 data.priority, status, now, now)
    line_rows = [(i, sku_ids[line.sku], line.qty, short[i]["qty"] if i in short else 0,
                  short[i]["reason"] if i in short else None)
                 for i, line in enumerate(data.lines)]
    history_rows = [(None, "received", actor, None, now),
                    ("received", status, actor, reason, routed_at)]
    shipments = []
    lanes = {(l["node"], l["region"], l["service"]): l for l in problem["lanes"]}
    for shipment in plan["shipments"]:
        lane = lanes[(shipment["node"], data.region, data.service)]
        node = master.node_docs[shipment["node"]]
        units = sum(l["qty"] for l in shipment["lines"])
        cost = (lane["cost_per_shipment"] + node["handling_cost_per_order"]
                + units * (lane["cost_per_unit"] + node["handling_cost_per_unit"]))
        shipments.append((shipment, master.node_ids[shipment["node"]], Decimal(f"{cost:.4f}")))
    shipment_rows = [(node_id, s["transit_days"], cost, s.get("explanation"), now)
                     for s, node_id, cost in shipments]
    shipment_line_rows = [(node_id, l["line"], l["qty"])
                          for s, node_id, _ in shipments for l in s["lines"]]
    write = _write_rows_fused if conn.dialect.name == "postgresql" else _write_rows
    ids = write(conn, order_row, line_rows, history_rows, shipment_rows, shipment_line_rows,
                savepoint)
    if ids is None:
        raise DuplicateOrder(f"order {data.id!r} exists already", field="id")
    shipments = [(s, ids[node_id], cost) for s, node_id, cost in shipments]
    exceptions = []
    if short:
        first = {b["line"]: b for b in reversed(plan["backorders"])}  # its message
        exceptions = sorted(insert_rows(conn, _EXCEPTIONS, (
            "kind", "severity", "status", "message", "order_code", "sku_code", "details",
            "dedupe_key", "created_at"), [(
                "backorder", "critical" if first[i]["reason"] in ("no_eligible_node",)
                else "warning", "open",
                (f"{first[i]['qty']} of {data.lines[i].qty} × {data.lines[i].sku} on order "
                 f"{data.id} backordered: {first[i]['reason'].replace('_', ' ')}"
                 + (f" — {first[i]['explanation']}" if first[i].get("explanation") else "")),
                data.id, data.lines[i].sku,
                {"line": i, "qty": b["qty"], "reason": b["reason"]},
                f"backorder:{data.id}:{i}", now) for i, b in short.items()],
            _EXCEPTION_UPSERT))
    return {
        "id": data.id, "status": status, "channel": data.channel, "region": data.region,
        "service": data.service, "ship_complete": data.ship_complete,
        "customer_ref": data.customer_ref, "priority": data.priority,
        "promised_date": data.promised_date.isoformat() if data.promised_date else None,
        "created_at": now.isoformat(),
        "lines": [{"line": i, "sku": line.sku, "qty": line.qty,
                   "qty_backordered": short[i]["qty"] if i in short else 0}
                  for i, line in enumerate(data.lines)],
        "shipments": [
            {"id": id_, "node": s["node"], "status": "planned",
             "transit_days": s["transit_days"], "cost": float(cost), "carrier": None,
             "tracking": None, "explanation": s.get("explanation"),
             "lines": [{"line": l["line"], "sku": data.lines[l["line"]].sku, "qty": l["qty"]}
                       for l in s["lines"]]}
            for s, id_, cost in shipments],
        "backorders": [{"line": i, "sku": data.lines[i].sku, "qty": short[i]["qty"],
                        "reason": short[i]["reason"]}
                       for i in range(len(data.lines)) if i in short and short[i]["qty"]],
        "exceptions": [{"id": id_, "kind": kind, "severity": severity, "status": st,
                        "message": message} for id_, kind, severity, st, message in exceptions],
        "history": [{"from": None, "to": "received", "actor": actor, "reason": None,
                     "at": now.isoformat()},
                    {"from": "received", "to": status, "actor": actor, "reason": reason,
                     "at": routed_at.isoformat()}],
        "routing_status": plan.get("status"),
    }


def order_view(session: Session, code: str, *, plan_status: str | None = None) -> dict:
    order = session.scalar(
        select(Order).where(Order.code == code).options(
            selectinload(Order.lines).selectinload(OrderLine.sku),
            selectinload(Order.shipments).selectinload(Shipment.lines),
            selectinload(Order.shipments).selectinload(Shipment.node),
            selectinload(Order.history)))
    if order is None:
        raise NotFound(f"unknown order {code!r}", field="id")
    return render_order(session, order, plan_status=plan_status)


def _iso(ts: dt.datetime) -> str:
    """UTC with its offset; SQLite hands timestamps back without one."""
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)).isoformat()


def render_order(session: Session, order: Order, *, plan_status: str | None = None) -> dict:
    """The order as the API shows it, from objects already in the session."""
    exceptions = session.scalars(select(ExceptionItem).where(
        ExceptionItem.order_code == order.code).order_by(ExceptionItem.id)).all()
    line_index = {line.id: line for line in order.lines}
    view = {
        "id": order.code, "status": order.status, "channel": order.channel.code,
        "region": order.region, "service": order.service, "ship_complete": order.ship_complete,
        "customer_ref": order.customer_ref, "priority": order.priority,
        "promised_date": order.promised_date.isoformat() if order.promised_date else None,
        "created_at": _iso(order.created_at),
        "lines": [{"line": l.line_no, "sku": l.sku.code, "qty": l.qty,
                   "qty_backordered": l.qty_backordered} for l in order.lines],
        "shipments": [
            {"id": s.id, "node": s.node.code, "status": s.status, "transit_days": s.transit_days,
             "cost": float(s.cost), "carrier": s.carrier, "tracking": s.tracking,
             "explanation": s.explanation,
             "lines": [{"line": line_index[sl.order_line_id].line_no,
                        "sku": line_index[sl.order_line_id].sku.code, "qty": sl.qty}
                       for sl in s.lines]}
            for s in order.shipments],
        "backorders": [{"line": l.line_no, "sku": l.sku.code, "qty": l.qty_backordered,
                        "reason": l.backorder_reason}
                       for l in order.lines if l.qty_backordered],
        "exceptions": [{"id": e.id, "kind": e.kind, "severity": e.severity, "status": e.status,
                        "message": e.message} for e in exceptions],
        "history": [{"from": h.from_status, "to": h.to_status, "actor": h.actor,
                     "reason": h.reason, "at": _iso(h.at)} for h in order.history],
    }
    if plan_status is not None:
        view["routing_status"] = plan_status
    return view


# --------------------------------------------------------------------------- lifecycle

def _load(session: Session, code: str) -> Order:
    order = session.scalar(select(Order).where(Order.code == code).with_for_update())
    if order is None:
        raise NotFound(f"unknown order {code!r}", field="id")
    return order


def _shipment(order: Order, shipment_id: int) -> Shipment:
    for s in order.shipments:
        if s.id == shipment_id:
            return s
    raise NotFound(f"order {order.code} has no shipment {shipment_id}", field="shipment")


def _require(order: Order, allowed: tuple[str, ...], action: str) -> None:
    if order.status not in allowed:
        raise InvalidTransition(f"cannot {action} order {order.code}: it is {order.status}",
                                field="status")


def release_order(session: Session, code: str, *, actor: str) -> dict:
    """Hand every planned shipment to its node."""
    order = _load(session, code)
    _require(order, ("routed", "backordered"), "release")
    planned = [s for s in order.shipments if s.status == "planned"]
    if not planned:
        raise InvalidTransition(f"order {code} has no planned shipment to release",
                                field="status")
    for s in planned:
        s.status = "released"
    if not any(l.qty_backordered for l in order.lines):
        _record(order, "released", actor)
    session.flush()
    return order_view(session, code)


def ship_shipment(session: Session, code: str, shipment_id: int, *, actor: str,
                  carrier: str | None = None, tracking: str | None = None) -> dict:
    order = _load(session, code)
    _require(order, ("routed", "released", "backordered", "shipped"), "ship")
    shipment = _shipment(order, shipment_id)
    if shipment.status not in ("planned", "released"):
        raise InvalidTransition(f"shipment {shipment_id} is {shipment.status}", field="shipment")
    post(session, [Movement("ship", sl.order_line.sku.code, sl.qty, shipment.node.code,
                            doc_type="order", doc_id=code) for sl in shipment.lines], actor=actor)
    shipment.status, shipment.carrier, shipment.tracking = "shipped", carrier, tracking
    shipment.shipped_at = utcnow()
    open_ = [s for s in order.shipments if s.status in ("planned", "released")]
    if not open_ and not any(l.qty_backordered for l in order.lines):
        _record(order, "shipped", actor)
    session.flush()
    return order_view(session, code)


def deliver_order(session: Session, code: str, *, actor: str) -> dict:
    order = _load(session, code)
    _require(order, ("shipped",), "deliver")
    now = utcnow()
    for s in order.shipments:
        if s.status == "shipped":
            s.status, s.delivered_at = "delivered", now
    _record(order, "delivered", actor)
    session.flush()
    return order_view(session, code)


def cancel_order(session: Session, code: str, *, actor: str, reason: str | None = None) -> dict:
    """Cancel what of an order has not shipped: its planned and released
    shipments are cancelled and their reservations go back to available, and
    its backorders are dropped. An order with nothing shipped ends
    ``cancelled``; a partly shipped one keeps its shipped units (returns take
    them back) and ends ``shipped``, the history naming the cancellation."""
    order = _load(session, code)
    _require(order, ("received", "routed", "released", "backordered", "on_hold"), "cancel")
    movements = []
    for s in order.shipments:
        if s.status in ("planned", "released"):
            movements += [Movement("release", sl.order_line.sku.code, sl.qty, s.node.code,
                                   doc_type="order", doc_id=code) for sl in s.lines]
            s.status = "cancelled"
    if movements:
        post(session, movements, actor=actor)
    for line in order.lines:
        line.qty_backordered = 0
        line.backorder_reason = None
    _resolve_exceptions(session, code, actor, "order cancelled")
    if any(s.status in ("shipped", "delivered") for s in order.shipments):
        _record(order, "shipped", actor,
                "unshipped remainder cancelled" + (f": {reason}" if reason else ""))
    else:
        _record(order, "cancelled", actor, reason)
    session.flush()
    return order_view(session, code)


def hold_order(session: Session, code: str, *, actor: str, reason: str | None = None) -> dict:
    order = _load(session, code)
    _require(order, ("received", "routed", "backordered"), "hold")
    _record(order, "on_hold", actor, reason)
    session.flush()
    return order_view(session, code)


def unhold_order(session: Session, code: str, *, actor: str) -> dict:
    order = _load(session, code)
    _require(order, ("on_hold",), "unhold")
    status = ("backordered" if any(l.qty_backordered for l in order.lines)
              else "routed" if order.shipments else "received")
    _record(order, status, actor, "hold lifted")
    session.flush()
    return order_view(session, code)


def _resolve_open(session: Session, actor: str, how: str, *criteria) -> None:
    """Resolve the open exceptions matching ``criteria``, saying ``how``. Exceptions are
    written last, after the orders and the stock (the global lock order)."""
    for e in session.scalars(select(ExceptionItem).where(ExceptionItem.status != "resolved",
                                                         *criteria)):
        e.status, e.resolved_by, e.resolved_at, e.resolution = "resolved", actor, utcnow(), how


def _resolve_exceptions(session: Session, order_code: str, actor: str, how: str) -> None:
    _resolve_open(session, actor, how, ExceptionItem.order_code == order_code)


def _resolve_refill_failures(session: Session, sku_codes: list[str] | None, actor: str,
                             how: str) -> None:
    """A refill of these SKUs (all of them with None) has now run: the ``refill_failed``
    exceptions a failed one queued are settled."""
    _resolve_open(session, actor, how, ExceptionItem.kind == "refill_failed",
                  *([] if sku_codes is None else [ExceptionItem.sku_code.in_(sku_codes)]))


def lock_orders(session: Session, chosen, statuses: tuple[str, ...], *options) -> list[Order]:
    """Lock the orders whose ids ``chosen`` (a subquery) selects and that are
    still in one of ``statuses``, in id order, and load them as they are now.

    The first step of every path that changes several orders (the global lock
    order: order rows by id, then stock positions by (sku id, node id)). On
    PostgreSQL ``SELECT … ORDER BY id FOR UPDATE`` waits for an order another
    transaction holds (a cancel, a shipment, another refill) and then checks
    the status again on the row as that transaction left it; SQLite's
    ``BEGIN IMMEDIATE`` already holds the database's write lock. Whatever was
    read before the lock is not trusted: the rows, and their lines and
    shipments (loaded afterwards), are read again.
    """
    return list(session.scalars(
        select(Order).where(Order.id.in_(chosen), Order.status.in_(statuses))
        .order_by(Order.id).with_for_update(of=Order).options(*options)
        .execution_options(populate_existing=True)))


def _priority_key(order: Order):
    return (-order.priority, order.created_at, order.id)


def reroute_backorders(session: Session, *, router: Router, actor: str,
                       sku_codes: list[str] | None = None, order_codes: list[str] | None = None,
                       limit: int = 500,
                       settings: RoutingSettings = RoutingSettings()) -> dict:
    """Route waiting lines again (after a receipt, restock or count gain), in
    priority then age order; the oldest, most urgent orders get the stock first.

    Concurrent refills, cancels and shipments are safe: the waiting orders are
    locked first (``lock_orders``: id order, state read again after the lock,
    so an order cancelled or filled meanwhile is skipped and a line is never
    reserved twice), then every position of their SKUs (canonical order), and
    only then routed.
    """
    waiting = select(OrderLine.order_id).where(OrderLine.qty_backordered > 0)
    if sku_codes:
        waiting = waiting.join(Sku, Sku.id == OrderLine.sku_id).where(Sku.code.in_(sku_codes))
    chosen = select(Order.id).where(Order.status == "backordered", Order.id.in_(waiting))
    if order_codes:
        chosen = chosen.where(Order.code.in_(order_codes))
    chosen = (chosen.order_by(Order.priority.desc(), Order.created_at, Order.id)
              .limit(max(1, min(limit, 5000))))
    orders = sorted(lock_orders(session, chosen, ("backordered",)), key=_priority_key)
    jobs = [RoutingJob(o, [(l, l.qty_backordered) for l in o.lines if l.qty_backordered > 0])
            for o in orders]
    jobs = [job for job in jobs if job.lines]  # nothing left waiting: another refill filled it
    # Orders are locked; now the stock, all of it at once in canonical order, so
    # that routing the orders one by one never takes positions out of order.
    if jobs:
        lock_positions(session, sorted({l.sku_id for job in jobs for l, _ in job.lines}))
    # One order at a time, in priority then age order, so that stock arriving
    # goes to the most urgent, oldest waiting lines first (a batch solve would
    # be indifferent between orders with equal penalties).
    filled = 0
    for job in jobs:
        waiting_units = sum(q for _, q in job.lines)
        plan = route_and_reserve(session, [job], router, settings, actor)
        filled += waiting_units - sum(b["qty"] for b in plan["backorders"])
        if not any(l.qty_backordered for l in job.order.lines):
            _resolve_exceptions(session, job.order.code, actor, "stock arrived; re-routed")
    if sku_codes and not order_codes:
        # a refill of whole SKUs has run: it settles the failures queued for them
        _resolve_refill_failures(session, sku_codes, actor, "a later refill of the SKU ran")
    return {"orders": len(jobs), "units_filled": filled}


_TRANSIENT = ("40P01", "40001")  # deadlock detected, serialization failure
REFILL_ATTEMPTS = 3


def _transient(err: BaseException) -> bool:
    orig = getattr(err, "orig", None)
    return getattr(orig, "sqlstate", None) in _TRANSIENT


def refill_after_arrival(sessions, skus: list[str], *, router: Router,
                         actor: str = "system") -> dict:
    """Give stock that has just arrived (its posting already committed) to
    waiting backorders of these SKUs, in a transaction of its own.

    A failure here must not fail the request whose stock change is already
    applied (a client retrying it without a key would apply it again): the
    refill is retried on a deadlock or serialization failure (it reads
    everything again, so a re-run is safe), and if it still fails the error is
    logged, a ``refill_failed`` exception is raised for the SKUs, and the
    answer says ``deferred``. The next arrival of the SKU, the exception's
    reroute action or a re-optimisation routes the orders then.
    """
    skus = sorted(set(skus))
    for attempt in range(REFILL_ATTEMPTS):
        try:
            with unit_of_work(sessions) as session:
                return reroute_backorders(session, router=router, actor=actor, sku_codes=skus)
        except Exception as err:  # noqa: BLE001 - the posting stands whatever happens here
            if _transient(err) and attempt + 1 < REFILL_ATTEMPTS:
                continue
            log.exception("backorder refill after stock arrival failed (skus %s)", skus)
            _record_refill_failure(sessions, skus, err)
            return {"orders": 0, "units_filled": 0, "deferred": True}
    raise AssertionError("unreachable")


def _record_refill_failure(sessions, skus: list[str], err: BaseException) -> None:
    try:
        with unit_of_work(sessions) as session:
            for sku in skus:
                details = {"error": type(err).__name__}
                dedupe = f"refill_failed:{sku}"
                existing = session.scalar(
                    select(ExceptionItem).where(ExceptionItem.dedupe_key == dedupe))
                if existing is not None:
                    existing.details = details
                    if existing.status == "resolved":
                        existing.status = "open"
                    continue
                session.add(ExceptionItem(
                    kind="refill_failed", severity="warning", sku_code=sku, details=details,
                    message=(f"stock of {sku} arrived but waiting backorders could not be "
                             f"re-routed ({type(err).__name__}); the next arrival or a "
                             f"re-optimisation will try again and resolve this"),
                    dedupe_key=dedupe))
    except Exception:  # noqa: BLE001 - best effort; the error is logged above
        log.exception("could not record the failed refill (skus %s)", skus)


# --------------------------------------------------------------------------- batch

MAX_REOPTIMIZE_ORDERS = 20_000


def reoptimize(session: Session, *, router: Router, actor: str, dry_run: bool = False,
               settings: RoutingSettings = RoutingSettings(time_limit_s=30.0),
               limit: int = MAX_REOPTIMIZE_ORDERS) -> dict:
    """Plan every open, unreleased order and backorder together and apply the
    result atomically: planned reservations are released and re-reserved by the
    batch plan. Returns a diff. With ``dry_run`` the caller rolls back (nothing
    is applied); the diff is the same."""
    # Locks in the global order: the orders first (id order, re-read after
    # the lock), then the stock positions of their SKUs; a cancel or shipment
    # of one of them waits for the batch, or the batch for it, never both.
    statuses = ("routed", "backordered")
    chosen = (select(Order.id).where(Order.status.in_(statuses))
              .order_by(Order.priority.desc(), Order.created_at, Order.id)
              .limit(max(1, min(limit, MAX_REOPTIMIZE_ORDERS))))
    orders = sorted(lock_orders(
        session, chosen, statuses,
        selectinload(Order.lines).selectinload(OrderLine.sku),
        selectinload(Order.shipments).selectinload(Shipment.lines),
        selectinload(Order.shipments).selectinload(Shipment.node)), key=_priority_key)
    # Only orders whose every shipment is still planned may move.
    movable = [o for o in orders
               if all(s.status in ("planned", "cancelled") for s in o.shipments)]
    if not movable:
        return {"orders": 0, "moved": 0, "cost_before": 0.0, "cost_after": 0.0,
                "backordered_units_before": 0, "backordered_units_after": 0,
                "backorders_filled": 0, "dry_run": dry_run, "changes": []}
    before = {o.code: _assignment(o) for o in movable}
    cost_before = sum(float(s.cost) for o in movable for s in o.shipments
                      if s.status == "planned")
    back_before = sum(l.qty_backordered for o in movable for l in o.lines)
    lock_positions(session, sorted({l.sku_id for o in movable for l in o.lines}))
    releases = []
    for o in movable:
        for s in o.shipments:
            if s.status == "planned":
                releases += [Movement("release", sl.order_line.sku.code, sl.qty, s.node.code,
                                      doc_type="order", doc_id=o.code) for sl in s.lines]
                s.status = "cancelled"
    if releases:
        post(session, releases, actor=actor)
    session.flush()
    jobs = [RoutingJob(o, [(l, l.qty) for l in o.lines]) for o in movable]
    plan = route_and_reserve(session, jobs, router, settings, actor, fresh=True)
    after = {o.code: _assignment(o) for o in movable}
    back_after = sum(b["qty"] for b in plan["backorders"])
    cost_after = sum(float(s.cost) for o in movable for s in o.shipments if s.status == "planned")
    changes = [{"order": c, "before": before[c], "after": after[c]}
               for c in before if before[c] != after[c]]
    # every waiting order was routed again: failed refills are settled (a dry run's
    # caller rolls this back with the rest)
    _resolve_refill_failures(session, None, actor, "re-optimised")
    return {
        "orders": len(movable), "moved": len(changes), "dry_run": dry_run,
        "routing_status": plan.get("status"), "objective": plan.get("objective"),
        "bound": plan.get("bound"), "gap": plan.get("gap"),
        "cost_before": round(cost_before, 4), "cost_after": round(cost_after, 4),
        "backordered_units_before": back_before, "backordered_units_after": back_after,
        "backorders_filled": max(0, back_before - back_after), "changes": changes[:1000],
    }


def _assignment(order: Order) -> dict:
    """{node: {line: qty}} of an order's planned shipments."""
    out: dict[str, dict[int, int]] = {}
    for s in order.shipments:
        if s.status == "planned":
            for sl in s.lines:
                node = out.setdefault(s.node.code, {})
                node[sl.order_line.line_no] = node.get(sl.order_line.line_no, 0) + sl.qty
    return out
