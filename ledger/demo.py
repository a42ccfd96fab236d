"""The demo world: a realistic, seeded company to try stockroute on.

``build_demo_world(seed)`` is pure and deterministic (the same seed gives the
same world, field for field); ``load_demo`` writes it through the ledger's own
write paths (master-data upserts and ``post``), so the audit is clean after.

The company: two regional DCs, a 3PL, four stores and a drop-ship supplier;
~500 SKUs in 8 categories with Zipf-like popularity; 5 suppliers with
different lead times, capacities and MOQs; lanes from every node to 8 regions
at two service levels, priced by distance; three channels (web, a marketplace
restricted to the big nodes with a higher backorder penalty, and B2B); 90 days
of daily demand history with a weekly pattern, a seasonal trend and one past
promotion; starting stock, open purchase orders, recent orders and returns
waiting in inspection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from sqlalchemy import func, insert, select

from ledger import master
from ledger.db import read_only, unit_of_work
from ledger.errors import LedgerError
from ledger.models import (
    Channel, DailyDemand, Node, Order, OrderLine, OrderStatusChange, PurchaseOrder,
    PurchaseOrderLine, Return, Shipment, ShipmentLine, Sku, Supplier,
)
from ledger.movements import Movement
from ledger.posting import post

REGIONS = ("NE", "SE", "MW", "SW", "W", "NW", "S", "C")
# Rough positions on a map, for distance-priced lanes.
REGION_XY = {"NE": (9, 8), "SE": (8, 2), "MW": (6, 7), "SW": (2, 2), "W": (0, 5),
             "NW": (1, 9), "S": (5, 1), "C": (5, 5)}
CATEGORIES = ("apparel", "footwear", "home", "kitchen", "beauty", "toys", "electronics",
              "outdoor")
HISTORY_DAYS = 90
MAX_SKUS = 5_000


@dataclass(frozen=True)
class DemoWorld:
    seed: int
    today: dt.date
    skus: list[dict]
    nodes: list[dict]
    lanes: list[dict]
    channels: list[dict]
    suppliers: list[dict]
    supplier_items: list[dict]
    settings: list[dict]
    stock: list[tuple[str, str, int]]                     # sku, node, units available
    history: list[tuple[str, str, str, dt.date, int, int]]  # sku, node, channel, day, units, orders
    purchase_orders: list[dict]
    orders: list[dict]
    returns: list[dict] = field(default_factory=list)
    popularity: dict[str, float] = field(default_factory=dict)  # sku -> share of demand


def _nodes() -> list[dict]:
    return [
        {"code": "DC-EAST", "name": "East regional DC", "kind": "warehouse", "region": "NE",
         "capacity_units_per_day": 60_000, "capacity_orders_per_day": 20_000,
         "receiving_capacity_per_day": 40_000, "handling_cost_per_order": 1.20,
         "handling_cost_per_unit": 0.15},
        {"code": "DC-WEST", "name": "West regional DC", "kind": "warehouse", "region": "W",
         "capacity_units_per_day": 50_000, "capacity_orders_per_day": 16_000,
         "receiving_capacity_per_day": 35_000, "handling_cost_per_order": 1.25,
         "handling_cost_per_unit": 0.15},
        {"code": "3PL-CENTRAL", "name": "Central 3PL", "kind": "3pl", "region": "C",
         "capacity_units_per_day": 20_000, "capacity_orders_per_day": 7_000,
         "receiving_capacity_per_day": 15_000, "handling_cost_per_order": 2.10,
         "handling_cost_per_unit": 0.25},
        {"code": "STORE-NYC", "name": "New York store", "kind": "store", "region": "NE",
         "capacity_units_per_day": 600, "capacity_orders_per_day": 200,
         "receiving_capacity_per_day": 1_500, "handling_cost_per_order": 3.50,
         "handling_cost_per_unit": 0.40},
        {"code": "STORE-MIA", "name": "Miami store", "kind": "store", "region": "SE",
         "capacity_units_per_day": 500, "capacity_orders_per_day": 160,
         "receiving_capacity_per_day": 1_200, "handling_cost_per_order": 3.50,
         "handling_cost_per_unit": 0.40},
        {"code": "STORE-CHI", "name": "Chicago store", "kind": "store", "region": "MW",
         "capacity_units_per_day": 500, "capacity_orders_per_day": 160,
         "receiving_capacity_per_day": 1_200, "handling_cost_per_order": 3.50,
         "handling_cost_per_unit": 0.40},
        {"code": "STORE-SEA", "name": "Seattle store", "kind": "store", "region": "NW",
         "capacity_units_per_day": 450, "capacity_orders_per_day": 150,
         "receiving_capacity_per_day": 1_000, "handling_cost_per_order": 3.50,
         "handling_cost_per_unit": 0.40},
        {"code": "DROP-ACME", "name": "ACME drop-ship", "kind": "dropship", "region": "SW",
         "capacity_units_per_day": 3_000, "capacity_orders_per_day": 1_500,
         "receiving_capacity_per_day": None, "handling_cost_per_order": 4.00,
         "handling_cost_per_unit": 0.10},
    ]


def _lanes(nodes: list[dict]) -> list[dict]:
    lanes = []
    for node in nodes:
        nx, ny = REGION_XY[node["region"]]
        for region in REGIONS:
            rx, ry = REGION_XY[region]
            dist = float(np.hypot(nx - rx, ny - ry))
            transit = 1 + int(dist // 3)
            lanes.append({"node": node["code"], "region": region, "service": "standard",
                          "cost_per_shipment": round(4.5 + 0.55 * dist, 2),
                          "cost_per_unit": round(0.35 + 0.05 * dist, 2),
                          "transit_days": transit})
            if dist <= 7.5 or node["kind"] == "warehouse":
                lanes.append({"node": node["code"], "region": region, "service": "express",
                              "cost_per_shipment": round(11.0 + 1.4 * dist, 2),
                              "cost_per_unit": round(0.8 + 0.12 * dist, 2),
                              "transit_days": max(1, transit - 1 - int(dist > 6))})
    return lanes


def build_demo_world(seed: int = 7, *, n_skus: int = 500,
                     today: dt.date | None = None) -> DemoWorld:
    """The demo company as plain data. Deterministic in ``seed`` (and ``today``)."""
    if not 10 <= n_skus <= MAX_SKUS:
        raise ValueError(f"n_skus must be between 10 and {MAX_SKUS}")
    rng = np.random.default_rng(seed)
    today = today or dt.date(2026, 11, 20)
    nodes = _nodes()
    lanes = _lanes(nodes)

    # SKUs with Zipf-like popularity: a few sellers carry most of the volume.
    ranks = rng.permutation(n_skus) + 1
    share = 1.0 / ranks ** 1.05
    share = share / share.sum()
    skus, popularity = [], {}
    for i in range(n_skus):
        cat = CATEGORIES[i % len(CATEGORIES)]
        cost = float(np.round(rng.lognormal(2.0, 0.6), 2))
        code = f"{cat[:3].upper()}-{i + 1:04d}"
        skus.append({"code": code, "name": f"{cat.title()} item {i + 1}", "category": cat,
                     "unit_cost": cost, "price": float(np.round(cost * rng.uniform(1.8, 3.2), 2)),
                     "weight_kg": float(np.round(rng.uniform(0.1, 4.0), 3)),
                     "volume_l": float(np.round(rng.uniform(0.2, 12.0), 3)),
                     "case_pack": int(rng.choice([1, 6, 6, 12, 12, 24]))})
        popularity[code] = float(share[i])

    suppliers = [
        {"code": "SUP-FAST", "name": "FastSource", "lead_time_days": 5, "lead_time_std_days": 1.0,
         "capacity_units_per_period": 40_000, "fixed_order_cost": 90.0},
        {"code": "SUP-ASIA", "name": "Pacific Works", "lead_time_days": 35,
         "lead_time_std_days": 6.0, "capacity_units_per_period": 120_000,
         "fixed_order_cost": 450.0},
        {"code": "SUP-EU", "name": "EuroGoods", "lead_time_days": 21, "lead_time_std_days": 3.0,
         "capacity_units_per_period": 50_000, "fixed_order_cost": 250.0},
        {"code": "SUP-LOCAL", "name": "Local Crafts", "lead_time_days": 7,
         "lead_time_std_days": 2.0, "capacity_units_per_period": 6_000,
         "fixed_order_cost": 60.0},
        {"code": "SUP-ACME", "name": "ACME", "lead_time_days": 10, "lead_time_std_days": 2.0,
         "capacity_units_per_period": 25_000, "fixed_order_cost": 120.0},
    ]
    cost_factor = {"SUP-FAST": 1.15, "SUP-ASIA": 0.8, "SUP-EU": 1.0, "SUP-LOCAL": 1.25,
                   "SUP-ACME": 1.05}
    moq = {"SUP-FAST": 12, "SUP-ASIA": 240, "SUP-EU": 96, "SUP-LOCAL": 6, "SUP-ACME": 48}
    items = []
    for i, sku in enumerate(skus):
        primary = ("SUP-ASIA", "SUP-EU", "SUP-ACME", "SUP-LOCAL")[i % 4]
        chosen = [primary] + (["SUP-FAST"] if rng.random() < 0.35 else [])
        for sup in chosen:
            items.append({"supplier": sup, "sku": sku["code"],
                          "unit_cost": float(np.round(sku["unit_cost"] * cost_factor[sup], 2)),
                          "moq": moq[sup]})

    channels = [
        {"code": "web", "name": "Own web shop", "backorder_penalty_per_unit": 40.0, "nodes": []},
        {"code": "marketplace", "name": "Marketplace", "backorder_penalty_per_unit": 60.0,
         "nodes": ["DC-EAST", "DC-WEST", "3PL-CENTRAL"]},
        {"code": "b2b", "name": "Wholesale", "backorder_penalty_per_unit": 25.0,
         "nodes": ["DC-EAST", "DC-WEST"]},
    ]
    channel_mix = {"web": 0.6, "marketplace": 0.3, "b2b": 0.1}

    # Where demand is served from: mostly the DCs, some stores, a little drop-ship.
    node_mix = {"DC-EAST": 0.38, "DC-WEST": 0.30, "3PL-CENTRAL": 0.14, "STORE-NYC": 0.04,
                "STORE-MIA": 0.03, "STORE-CHI": 0.03, "STORE-SEA": 0.03, "DROP-ACME": 0.05}
    daily_units = 9_000.0
    days = [today - dt.timedelta(days=HISTORY_DAYS - d) for d in range(HISTORY_DAYS)]
    weekday = np.array([1.05, 0.95, 0.95, 1.0, 1.1, 1.25, 0.7])
    promo_start = today - dt.timedelta(days=40)
    promo_end = promo_start + dt.timedelta(days=4)
    history = []
    sku_codes = [s["code"] for s in skus]
    shares = np.array([popularity[c] for c in sku_codes])
    for d_i, day in enumerate(days):
        level = daily_units * weekday[day.weekday()] * (1 + 0.25 * d_i / HISTORY_DAYS)
        promo = 2.2 if promo_start <= day <= promo_end else 1.0
        for node, n_share in node_mix.items():
            for channel, c_share in channel_mix.items():
                if channel != "web" and node.startswith(("STORE", "DROP")):
                    continue
                lam = level * promo * n_share * c_share * shares
                units = rng.poisson(lam)
                for k in np.nonzero(units)[0]:
                    u = int(units[k])
                    history.append((sku_codes[k], node, channel, day, u,
                                    max(1, int(round(u / 1.4)))))

    # Stock: about three weeks of each node's demand, less at stores, promise buffers there.
    stock, settings = [], []
    for k, code in enumerate(sku_codes):
        for node, n_share in node_mix.items():
            weeks = 1.2 if node.startswith("STORE") else 3.0
            mean = daily_units * n_share * shares[k] * 7 * weeks
            if node == "DROP-ACME" and k % 4 != 2:
                continue  # the drop-shipper carries ACME's range only
            units = int(rng.poisson(mean) + (rng.random() < 0.5))
            if rng.random() < 0.04:
                units = 0  # some stockouts to look at
            if units:
                stock.append((code, node, units))
            if node.startswith("STORE"):
                settings.append({"sku": code, "node": node, "promise_buffer": 1,
                                 "safety_stock": None, "service_level": 0.9})
            elif k < 60:
                settings.append({"sku": code, "node": node, "promise_buffer": 0,
                                 "safety_stock": None, "service_level": 0.98})

    # Open purchase orders arriving over the next weeks.
    purchase_orders = []
    items_by_supplier: dict[str, list[dict]] = {}
    for item in items:
        items_by_supplier.setdefault(item["supplier"], []).append(item)
    n_po = 0
    for sup in suppliers:
        for node in ("DC-EAST", "DC-WEST", "3PL-CENTRAL"):
            pool = items_by_supplier[sup["code"]]
            picks = rng.choice(len(pool), size=min(len(pool), 8), replace=False)
            n_po += 1
            expected = today + dt.timedelta(days=int(rng.integers(2, 1 + sup["lead_time_days"])))
            purchase_orders.append({
                "code": f"PO-{n_po:05d}", "supplier": sup["code"], "node": node,
                "expected_date": expected,
                "lines": [{"sku": pool[p]["sku"], "unit_cost": pool[p]["unit_cost"],
                           "qty": int(max(pool[p]["moq"], 1) * rng.integers(1, 5))}
                          for p in sorted(picks)]})

    # Recent orders: some shipped (a few of them returned), some open.
    orders, returns = [], []
    for n in range(240):
        k = int(rng.choice(n_skus, p=shares))
        region = REGIONS[int(rng.integers(len(REGIONS)))]
        channel = ("web", "web", "marketplace", "b2b")[n % 4]
        node = ("DC-EAST", "DC-WEST")[n % 2]
        state = "shipped" if n % 3 else "routed"
        orders.append({"code": f"SO-{100000 + n}", "channel": channel, "region": region,
                       "service": "standard", "node": node, "status": state,
                       "lines": [{"sku": sku_codes[k], "qty": int(rng.integers(1, 4))}],
                       "created_at_days_ago": int(rng.integers(0, 10))})
        if state == "shipped" and n % 10 == 1:
            reason = ("wrong size", "damaged", "not as described")[n % 3]
            returns.append({"code": f"RMA-{len(returns) + 1:06d}", "order": f"SO-{100000 + n}",
                            "qty": 1, "reason": reason})
    return DemoWorld(seed=seed, today=today, skus=skus, nodes=nodes, lanes=lanes,
                     channels=channels, suppliers=suppliers, supplier_items=items,
                     settings=settings, stock=stock, history=history,
                     purchase_orders=purchase_orders, orders=orders, returns=returns,
                     popularity=popularity)


def is_loaded(sessions) -> bool:
    """True when the database already has SKUs (the demo loads only into an empty one)."""
    with read_only(sessions) as s:
        return bool(s.scalar(select(func.count(Sku.id))))


def shifted(world: DemoWorld, today: dt.date) -> DemoWorld:
    """The same world with every date moved so that its last history day is before ``today``."""
    delta = today - world.today
    if not delta:
        return world
    history = [(sku, node, ch, day + delta, u, o) for sku, node, ch, day, u, o in world.history]
    pos = [{**po, "expected_date": po["expected_date"] + delta} for po in world.purchase_orders]
    return replace(world, today=today, history=history, purchase_orders=pos)


def load_demo(sessions, world: DemoWorld, *, today: dt.date | None = None,
              progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write the world into an empty database in one transaction; return counts of what was made.

    ``today`` moves the world's dates (history, expected PO dates, recent
    orders) so that the history ends the day before it; the CLI passes the real
    date so forecasts see recent demand. All or nothing: a failure leaves the
    database as it was.
    """
    say = progress or (lambda step, n: None)
    if today is not None:
        world = shifted(world, today)
    if is_loaded(sessions):
        raise LedgerError("the database already has SKUs; the demo loads into an empty one",
                          field="database")
    with unit_of_work(sessions) as s:
        _write_world(s, world, say)
    return {"skus": len(world.skus), "nodes": len(world.nodes), "lanes": len(world.lanes),
            "channels": len(world.channels), "suppliers": len(world.suppliers),
            "supplier_items": len(world.supplier_items), "stock_positions": len(world.stock),
            "history_rows": len(world.history), "purchase_orders": len(world.purchase_orders),
            "orders": len(world.orders), "returns": len(world.returns)}


def _write_world(s, world: DemoWorld, say: Callable[[str, int], None]) -> None:
    master.upsert_skus(s, world.skus)
    master.upsert_nodes(s, world.nodes)
    master.upsert_lanes(s, world.lanes)
    master.upsert_channels(s, world.channels)
    master.upsert_suppliers(s, world.suppliers)
    master.upsert_supplier_items(s, world.supplier_items)
    master.upsert_sku_node_settings(s, world.settings)
    say("master data", len(world.skus))
    for i in range(0, len(world.stock), 2_000):
        post(s, [Movement("count_gain", sku, qty, node, doc_type="count",
                          doc_id="DEMO-OPENING")
                 for sku, node, qty in world.stock[i:i + 2_000]], actor="demo")
    say("opening stock", len(world.stock))
    _load_history(s, world)
    say("demand history", len(world.history))
    _load_purchase_orders(s, world)
    say("open purchase orders", len(world.purchase_orders))
    _load_orders(s, world)
    say("recent orders", len(world.orders))


def _load_history(s, world: DemoWorld) -> None:
    """Bulk-insert the daily demand summary: COPY on PostgreSQL (a few hundred
    thousand rows), batched executemany elsewhere."""
    ids = _ids(s)
    cols = ("sku_id", "node_id", "channel_id", "day", "units", "orders")
    rows = [(ids["sku"][sku], ids["node"][node], ids["channel"][ch], day, u, o)
            for sku, node, ch, day, u, o in world.history]
    conn = s.connection()
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        raw = conn.connection.driver_connection  # the same transaction as the session
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY daily_demand ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    for i in range(0, len(rows), 20_000):
        s.execute(insert(DailyDemand), [dict(zip(cols, r)) for r in rows[i:i + 20_000]])


def _ids(s) -> dict[str, dict[str, int]]:
    return {"sku": dict(s.execute(select(Sku.code, Sku.id)).all()),
            "node": dict(s.execute(select(Node.code, Node.id)).all()),
            "channel": dict(s.execute(select(Channel.code, Channel.id)).all()),
            "supplier": dict(s.execute(select(Supplier.code, Supplier.id)).all())}


def _load_purchase_orders(s, world: DemoWorld) -> None:
    placed = dt.datetime.combine(world.today, dt.time(8), tzinfo=dt.timezone.utc)
    ids = _ids(s)
    moves = []
    for po in world.purchase_orders:
        row = PurchaseOrder(code=po["code"], supplier_id=ids["supplier"][po["supplier"]],
                            node_id=ids["node"][po["node"]], status="placed",
                            expected_date=po["expected_date"], placed_at=placed,
                            created_by="demo")
        row.lines = [PurchaseOrderLine(sku_id=ids["sku"][l["sku"]], qty_ordered=l["qty"],
                                       unit_cost=l["unit_cost"],
                                       expected_date=po["expected_date"])
                     for l in po["lines"]]
        s.add(row)
        moves += [Movement("po_placed", l["sku"], l["qty"], po["node"],
                           doc_type="purchase_order", doc_id=po["code"]) for l in po["lines"]]
    s.flush()
    post(s, moves, actor="demo")


def _shipment_terms(lanes: dict, nodes: dict, node: str, region: str, service: str,
                    units: int) -> tuple[float, int]:
    """(cost, transit days) of one shipment by the routing contract's cost model: the lane's
    per-shipment and per-unit costs plus the node's handling (standard if no such lane)."""
    lane = lanes.get((node, region, service)) or lanes[(node, region, "standard")]
    handling = nodes[node]
    cost = (lane["cost_per_shipment"] + handling["handling_cost_per_order"]
            + units * (lane["cost_per_unit"] + handling["handling_cost_per_unit"]))
    return round(cost, 2), lane["transit_days"]


def _load_orders(s, world: DemoWorld) -> None:
    ids = _ids(s)
    moves = []
    lanes = {(l["node"], l["region"], l["service"]): l for l in world.lanes}
    nodes = {n["code"]: n for n in world.nodes}
    for o in world.orders:
        created = (dt.datetime.combine(world.today, dt.time(12), tzinfo=dt.timezone.utc)
                   - dt.timedelta(days=o["created_at_days_ago"]))
        order = Order(code=o["code"], channel_id=ids["channel"][o["channel"]],
                      region=o["region"], service=o["service"], status=o["status"],
                      created_at=created, updated_at=created)
        order.lines = [OrderLine(line_no=i, sku_id=ids["sku"][l["sku"]], qty=l["qty"])
                       for i, l in enumerate(o["lines"])]
        order.history = [OrderStatusChange(from_status=None, to_status="received",
                                           actor="demo", at=created),
                         OrderStatusChange(from_status="received", to_status="routed",
                                           actor="demo", at=created)]
        cost, transit = _shipment_terms(lanes, nodes, o["node"], o["region"], o["service"],
                                        sum(l["qty"] for l in o["lines"]))
        shipment = Shipment(node_id=ids["node"][o["node"]], transit_days=transit, cost=cost,
                            status="shipped" if o["status"] == "shipped" else "planned",
                            created_at=created,
                            shipped_at=created if o["status"] == "shipped" else None)
        shipment.lines = [ShipmentLine(order_line=line, qty=line.qty) for line in order.lines]
        order.shipments = [shipment]
        if o["status"] == "shipped":
            order.history.append(OrderStatusChange(from_status="routed", to_status="shipped",
                                                   actor="demo", at=created))
        s.add(order)
        for l in o["lines"]:
            moves.append(Movement("reserve", l["sku"], l["qty"], o["node"],
                                  doc_type="order", doc_id=o["code"]))
            if o["status"] == "shipped":
                moves.append(Movement("ship", l["sku"], l["qty"], o["node"],
                                      doc_type="order", doc_id=o["code"]))
    s.flush()
    # Opening stock may not cover a demo order's SKU at its node: top it up first.
    need: dict[tuple[str, str], int] = {}
    for m in moves:
        if m.kind == "reserve":
            need[(m.sku, m.node)] = need.get((m.sku, m.node), 0) + m.qty
    post(s, [Movement("count_gain", sku, q, node, doc_type="count", doc_id="DEMO-OPENING")
             for (sku, node), q in sorted(need.items())], actor="demo")
    post(s, moves, actor="demo")
    rmoves = []
    by_code = {o["code"]: o for o in world.orders}
    noon = dt.datetime.combine(world.today, dt.time(12), tzinfo=dt.timezone.utc)
    for r in world.returns:
        o = by_code[r["order"]]
        order = s.scalar(select(Order).where(Order.code == r["order"]))
        # Received back a day or two after shipping, never later than today.
        received = noon - dt.timedelta(days=o["created_at_days_ago"] // 2)
        s.add(Return(code=r["code"], order_line_id=order.lines[0].id,
                     node_id=ids["node"][o["node"]], qty=r["qty"], reason=r["reason"],
                     status="received", created_at=received, received_at=received))
        rmoves.append(Movement("return_received", o["lines"][0]["sku"], r["qty"], o["node"],
                               doc_type="return", doc_id=r["code"]))
    if rmoves:
        post(s, rmoves, actor="demo")
