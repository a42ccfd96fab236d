"""Day-by-day discrete simulation of order operations.

Each day: disruptions take effect, purchase orders and returns arrive,
replenishment replans at its cadence, orders arrive (Poisson around the
demand, by channel and region), routing waves reserve stock with the same
optimizer the live service uses, nodes ship what was planned within their
daily capacity, and the day's figures are recorded. Everything happens on an
in-memory copy (``MemoryLedger``) with the ledger's movement rules; the live
database is never touched. The same scenario and seed give the same run.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ledger.movements import Movement
from scenarios.memledger import MemoryLedger
from scenarios.spec import Scenario, check_world
from scenarios.world import World

def z_value(service_level: float) -> float:
    from statistics import NormalDist
    return NormalDist().inv_cdf(service_level)


@dataclass
class OpenOrder:
    id: str
    day: int
    region: str
    service: str
    channel: str
    ship_complete: bool
    lines: list[list]            # [sku, qty ordered, qty still waiting]
    shipped_units: int = 0
    shipments: int = 0
    first_routed_complete: bool | None = None
    done_day: int | None = None
    transit_days: int = 0
    value: float = 0.0


@dataclass
class Run:
    scenario: str
    seed: int
    daily: list[dict] = field(default_factory=list)
    kpis: dict = field(default_factory=dict)
    seconds: float = 0.0


class Simulation:
    def __init__(self, scenario: Scenario, world: World, seed: int, *, router=None,
                 replenisher=None):
        check_world(scenario, world)   # a disruption naming no node would do nothing
        self.sc, self.world, self.seed = scenario, world, seed
        # Separate streams: demand does not shift when a policy ships differently, so
        # two policies on the same seed face exactly the same orders.
        self.rng = np.random.default_rng([seed, 0])
        self.returns_rng = np.random.default_rng([seed, 1])
        self.router = router or route_with_optimizer
        self.replenisher = replenisher or replenish_with_optimizer
        self.ledger = MemoryLedger()
        self.sku_info = {s["code"]: s for s in world.skus}
        self.node_info = {n["code"]: n for n in world.nodes}
        self.sku_codes = [s["code"] for s in world.skus]
        pop = np.array([world.popularity.get(c, 0.0) for c in self.sku_codes])
        self.base_pop = pop / pop.sum()
        self.pipeline: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
        self.returns_due: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
        self.orders: list[OpenOrder] = []
        self.backlog: list[OpenOrder] = []
        self.po_spend = 0.0
        self.shipping_cost = 0.0
        self.split_orders = 0
        self.next_id = 0
        self._load()

    # ------------------------------------------------------------------ setup
    def _load(self) -> None:
        self.ledger.post([Movement("count_gain", sku, qty, node)
                          for (sku, node), qty in sorted(self.world.stock.items()) if qty > 0])
        for sku, node, day, qty in self.world.inbound:
            self.ledger.post([Movement("po_placed", sku, qty, node)])
            self.pipeline[day].append((sku, node, qty))

    # ------------------------------------------------------------------ calendar effects
    def _active(self, kind: str, day: dt.date):
        return [d for d in self.sc.disruptions if d.kind == kind and d.dates.covers(day)]

    def _node_capacity(self, date: dt.date) -> dict[str, tuple[int | None, int | None]]:
        caps = {}
        for code, n in self.node_info.items():
            units, orders = n.get("capacity_units_per_day"), n.get("capacity_orders_per_day")
            factor = 1.0
            for d in self._active("node_capacity", date):
                if d.node == code:
                    factor *= d.factor
            if any(d.node == code for d in self._active("node_outage", date)):
                factor = 0.0
            caps[code] = (None if units is None else int(units * factor),
                          None if orders is None else int(orders * factor))
        return caps

    def _lanes(self, date: dt.date) -> list[dict]:
        changes = self._active("lane_cost", date)
        if not changes:
            return self.world.lanes
        lanes = []
        for lane in self.world.lanes:
            f = 1.0
            for d in changes:
                if (d.node in (None, lane["node"])) and (d.region in (None, lane["region"])):
                    f *= d.factor
            lanes.append({**lane, "cost_per_shipment": lane["cost_per_shipment"] * f,
                          "cost_per_unit": lane["cost_per_unit"] * f})
        return lanes

    def _uplift(self, date: dt.date) -> tuple[np.ndarray, dict[str, float]]:
        """Per-SKU multipliers and per-channel multipliers in force on ``date``."""
        sku_f = np.ones(len(self.sku_codes))
        chan_f: dict[str, float] = defaultdict(lambda: 1.0)
        for u in self.sc.demand.uplifts:
            if not u.dates.covers(date):
                continue
            if u.channel:
                chan_f[u.channel] *= u.factor
                continue
            for i, code in enumerate(self.sku_codes):
                if (u.sku and code == u.sku) or (
                        u.category and self.sku_info[code]["category"] == u.category) or (
                        not u.sku and not u.category):
                    sku_f[i] *= u.factor
        return sku_f, chan_f

    # ------------------------------------------------------------------ demand
    def _orders_for(self, day: int, date: dt.date) -> list[OpenOrder]:
        d = self.sc.demand
        sku_f, chan_f = self._uplift(date)
        weights = self.base_pop * sku_f
        volume_f = float(weights.sum())  # an uplift on some SKUs raises volume too
        weights = weights / weights.sum()
        weekday = (1.05, 0.95, 0.95, 1.0, 1.1, 1.25, 0.7)[date.weekday()]
        noise = float(self.rng.lognormal(0, d.noise)) if d.noise else 1.0
        regions = list(self.world.region_weights)
        rw = np.array([self.world.region_weights[r] for r in regions])
        rw = rw / rw.sum()
        lpo = np.array(d.lines_per_order) / sum(d.lines_per_order)
        out = []
        for channel, share in sorted(d.channel_shares().items()):
            lam = d.orders_per_day * share * weekday * noise * volume_f * chan_f[channel]
            n = int(self.rng.poisson(lam))
            if not n:
                continue
            n_lines = self.rng.choice(len(lpo), size=n, p=lpo) + 1
            region_idx = self.rng.choice(len(regions), size=n, p=rw)
            express = self.rng.random(n) < d.express_share
            complete = self.rng.random(n) < d.ship_complete_share
            picks = self.rng.choice(len(self.sku_codes), size=int(n_lines.sum()), p=weights)
            qtys = self.rng.choice((1, 1, 1, 1, 2, 2, 3), size=len(picks))
            k = 0
            for i in range(n):
                lines = []
                for _ in range(int(n_lines[i])):
                    lines.append([self.sku_codes[picks[k]], int(qtys[k]), int(qtys[k])])
                    k += 1
                self.next_id += 1
                o = OpenOrder(id=f"S{self.next_id}", day=day, region=regions[region_idx[i]],
                              service="express" if express[i] else "standard",
                              channel=channel, ship_complete=bool(complete[i]), lines=lines)
                o.value = sum(self.sku_info[s]["price"] * q for s, q, _ in lines)
                out.append(o)
        order = self.rng.permutation(len(out))
        return [out[i] for i in order]

    # ------------------------------------------------------------------ routing
    def _route_wave(self, wave: list[OpenOrder], date: dt.date,
                    cap_left: dict[str, list]) -> None:
        batch = wave + self.backlog[: self.sc.policies.routing.max_backlog_orders]
        if not batch:
            return
        skus = sorted({l[0] for o in batch for l in o.lines if l[2] > 0})
        inventory = []
        for code in self.node_info:
            if cap_left[code][0] == 0 or cap_left[code][1] == 0:
                continue
            for sku in skus:
                a = self.ledger.get(sku, code, "available")
                if a > 0:
                    inventory.append({"node": code, "sku": sku, "available": a})
        nodes = [{"id": c, "kind": n["kind"], "capacity_units": cap_left[c][0],
                  "capacity_orders": cap_left[c][1],
                  "handling_cost_per_order": n["handling_cost_per_order"],
                  "handling_cost_per_unit": n["handling_cost_per_unit"]}
                 for c, n in self.node_info.items()]
        rp = self.sc.policies.routing
        doc = {
            "nodes": nodes, "inventory": inventory, "lanes": self._lanes(date),
            "orders": [{"id": o.id, "region": o.region, "service": o.service,
                        "channel": o.channel, "ship_complete": o.ship_complete,
                        "lines": [{"sku": s, "qty": w} for s, _, w in o.lines if w > 0]}
                       for o in batch],
            "policy": {"split_penalty": rp.split_penalty,
                       "channel_backorder_penalty": {c["code"]: c["backorder_penalty_per_unit"]
                                                     for c in self.world.channels
                                                     if c.get("backorder_penalty_per_unit")},
                       "channel_nodes": {c["code"]: c["nodes"] for c in self.world.channels
                                         if c.get("nodes")},
                       "time_limit_seconds": rp.time_limit_seconds, "strategy": rp.strategy},
        }
        plan = self.router(doc, seed=self.seed)
        by_id = {o.id: o for o in batch}
        open_index = {o.id: [i for i, l in enumerate(o.lines) if l[2] > 0] for o in batch}
        moves = []
        for sh in plan["shipments"]:
            o = by_id[sh["order"]]
            units = 0
            for line in sh["lines"]:
                idx = open_index[o.id][line["line"]]
                o.lines[idx][2] -= line["qty"]
                units += line["qty"]
                moves.append(Movement("reserve", line["sku"], line["qty"], sh["node"]))
            o.shipped_units += units
            o.shipments += 1
            o.transit_days = max(o.transit_days, sh["transit_days"])
            cu, co = cap_left[sh["node"]]
            cap_left[sh["node"]] = [None if cu is None else cu - units,
                                    None if co is None else co - 1]
            self.today_shipments.append((sh["node"], units, sh["order"]))
        self.ledger.post(moves)
        self.shipping_cost += plan["cost"]["shipment"] + plan["cost"]["unit"]
        backordered = {b["order"] for b in plan["backorders"]}
        for o in wave:
            o.first_routed_complete = o.id not in backordered
        still = []
        for o in batch:
            waiting = sum(l[2] for l in o.lines)
            if waiting:
                still.append(o)
            elif o.done_day is None:
                o.done_day = self.day
                if o.shipments > 1:
                    self.split_orders += 1
        rest = self.backlog[self.sc.policies.routing.max_backlog_orders:]
        self.backlog = sorted(still, key=lambda o: (o.day, o.id)) + rest

    # ------------------------------------------------------------------ replenishment
    def _replenish(self, day: int, date: dt.date) -> None:
        rp = self.sc.policies.replenishment
        period_days = 7
        T = rp.horizon_periods
        nodes = [n for n in self.world.nodes if n["kind"] != "dropship"]
        node_codes = {n["code"] for n in nodes}
        # Expected demand per (sku, node, period) from the scenario's own demand model.
        d = self.sc.demand
        mean_lines = sum((i + 1) * p for i, p in enumerate(d.lines_per_order)) / sum(
            d.lines_per_order)
        units_per_day = d.orders_per_day * mean_lines * (1 * 4 + 2 * 2 + 3) / 7
        demand, positions = [], []
        z = z_value(rp.service_level)
        for t in range(T):
            pdate = date + dt.timedelta(days=t * period_days)
            sku_f, _ = self._uplift(pdate)
            weights = self.base_pop * sku_f
            for i, sku in enumerate(self.sku_codes):
                for node, share in self.world.node_share.get(sku, {}).items():
                    if node not in node_codes:
                        continue
                    q = int(round(units_per_day * weights[i] * share * period_days))
                    if q > 0:
                        demand.append({"sku": sku, "node": node, "period": t, "qty": q})
        inbound: dict[tuple, list] = defaultdict(list)
        for due, arrivals in self.pipeline.items():
            if due < day:
                continue
            period = (due - day) // period_days
            if period < T:
                for sku, node, qty in arrivals:
                    if node in node_codes:
                        inbound[(sku, node)].append({"period": period, "qty": qty})
        supplier_delay = defaultdict(int)
        supplier_factor = defaultdict(lambda: 1.0)
        for dis in self._active("supplier_delay", date):
            supplier_delay[dis.supplier] += dis.days
        for dis in self._active("supplier_capacity", date):
            supplier_factor[dis.supplier] *= dis.factor
        lead = {s["code"]: s["lead_time_days"] + supplier_delay[s["code"]]
                for s in self.world.suppliers}
        for sku in self.sku_codes:
            for node, share in self.world.node_share.get(sku, {}).items():
                if node not in node_codes:
                    continue
                weekly = units_per_day * self.base_pop[self.sku_codes.index(sku)] * share * 7
                ss = int(math.ceil(z * math.sqrt(max(weekly, 0.0)) * math.sqrt(2)))
                positions.append({"sku": sku, "node": node,
                                  "on_hand": self.ledger.get(sku, node, "available"),
                                  "safety_stock": ss, "inbound": inbound.get((sku, node), [])})
        doc = {
            "periods": T, "period_days": period_days,
            "skus": [{"sku": s["code"],
                      "holding_cost": round(s["unit_cost"] * rp.holding_rate_per_week, 4),
                      "backlog_cost": round(s["price"] * rp.backlog_cost_share, 4),
                      "case_pack": s["case_pack"]} for s in self.world.skus],
            "nodes": [{"id": n["code"], "receiving_capacity": (
                None if n.get("receiving_capacity_per_day") is None
                else n["receiving_capacity_per_day"] * period_days)} for n in nodes],
            "positions": positions, "demand": demand,
            "suppliers": [{"id": s["code"],
                           "lead_time_periods": max(0, math.ceil(lead[s["code"]] / period_days)),
                           "capacity_units": (None if s.get("capacity_units_per_period") is None
                                              else int(s["capacity_units_per_period"]
                                                       * supplier_factor[s["code"]])),
                           "fixed_order_cost": s["fixed_order_cost"]}
                          for s in self.world.suppliers],
            "supplier_items": [{"supplier": i["supplier"], "sku": i["sku"],
                                "unit_cost": i["unit_cost"], "moq": i["moq"]}
                               for i in self.world.supplier_items],
            "policy": {"time_limit_seconds": rp.time_limit_seconds, "strategy": rp.strategy},
        }
        plan = self.replenisher(doc, seed=self.seed)
        moves = []
        for o in plan["orders"]:
            if o["order_period"] != 0:
                continue  # later periods are replanned at the next review
            arrive = day + lead[o["supplier"]]
            self.pipeline[arrive].append((o["sku"], o["node"], o["qty"]))
            moves.append(Movement("po_placed", o["sku"], o["qty"], o["node"]))
            self.po_spend += o["unit_cost"] * o["qty"]
        self.ledger.post(moves)

    # ------------------------------------------------------------------ the day
    def run(self, progress=None) -> Run:
        started = time.perf_counter()
        result = Run(self.sc.name, self.seed)
        cadence = self.sc.policies.replenishment.cadence_days
        for day in range(self.sc.horizon_days):
            self.day = day
            date = self.sc.start_date + dt.timedelta(days=day)
            received = self.pipeline.pop(day, [])
            self.ledger.post([Movement("receive", s, q, n) for s, n, q in received])
            returned = self.returns_due.pop(day, [])
            self._returns(returned)
            if day % cadence == 0 and self.sc.policies.replenishment.strategy != "none":
                self._replenish(day, date)
            caps = self._node_capacity(date)
            cap_left = {c: list(v) for c, v in caps.items()}
            new = self._orders_for(day, date)
            self.orders.extend(new)
            self.today_shipments = []
            waves = self.sc.waves_per_day
            for w in range(waves):
                self._route_wave(new[w * len(new) // waves:(w + 1) * len(new) // waves], date,
                                 cap_left)
            self._ship_today()
            result.daily.append(self._day_figures(date, new, caps, cap_left, len(received)))
            if progress:
                progress(day + 1, self.sc.horizon_days)
        result.kpis = self._kpis(result.daily)
        result.seconds = time.perf_counter() - started
        return result

    def _ship_today(self) -> None:
        moves = []
        for (sku, node), pos in list(self.ledger.positions.items()):
            if pos["reserved"]:
                moves.append(Movement("ship", sku, pos["reserved"], node))
                if self.sc.returns.rate:
                    back = int(self.returns_rng.binomial(pos["reserved"], self.sc.returns.rate))
                    if back:
                        self.returns_due[self.day + self.sc.returns.delay_days].append(
                            (sku, node, back))
        self.ledger.post(moves)

    def _returns(self, returned: list[tuple[str, str, int]]) -> None:
        moves = []
        for sku, node, qty in returned:
            moves.append(Movement("return_received", sku, qty, node))
            restock = int(round(qty * self.sc.returns.restock_share))
            if restock:
                moves.append(Movement("restock", sku, restock, node))
            if qty - restock:
                moves.append(Movement("scrap", sku, qty - restock, node))
        self.ledger.post(moves)

    def _day_figures(self, date, new, caps, cap_left, receipts) -> dict:
        inv_value = {}
        stockout = 0
        totals: dict[str, int] = defaultdict(int)
        for (sku, node), pos in self.ledger.positions.items():
            cost = self.sku_info[sku]["unit_cost"]
            inv_value[node] = inv_value.get(node, 0.0) + pos["available"] * cost
            totals[sku] += pos["available"]
        stockout = sum(1 for c in self.sku_codes if totals.get(c, 0) == 0)
        util = {}
        for node, (cap_units, _) in caps.items():
            shipped = sum(u for n, u, _ in self.today_shipments if n == node)
            util[node] = (shipped / cap_units) if cap_units else (1.0 if shipped else 0.0)
        return {
            "date": date.isoformat(), "orders": len(new),
            "units_ordered": sum(l[1] for o in new for l in o.lines),
            "units_shipped": sum(u for _, u, _ in self.today_shipments),
            "shipments": len(self.today_shipments),
            "backorder_units": sum(l[2] for o in self.backlog for l in o.lines),
            "backorder_orders": len(self.backlog),
            "backorder_value": round(sum(self.sku_info[l[0]]["price"] * l[2]
                                         for o in self.backlog for l in o.lines), 2),
            "inventory_value": round(sum(inv_value.values()), 2),
            "inventory_value_by_node": {k: round(v, 2) for k, v in sorted(inv_value.items())},
            "utilisation_by_node": {k: round(v, 4) for k, v in sorted(util.items())},
            "stockout_skus": stockout, "receipts": receipts,
            "shipping_cost_to_date": round(self.shipping_cost, 2),
            "po_spend_to_date": round(self.po_spend, 2),
        }

    def _kpis(self, daily: list[dict]) -> dict:
        orders = self.orders
        ordered = sum(l[1] for o in orders for l in o.lines)
        shipped = sum(l[1] - l[2] for o in orders for l in o.lines)
        done = [o for o in orders if o.done_day is not None]
        first_time = [o for o in orders if o.first_routed_complete]
        shipped_orders = [o for o in orders if o.shipments]
        days = max(1, len(daily))
        avg_inv = sum(d["inventory_value"] for d in daily) / days
        cogs = sum(self.sku_info[l[0]]["unit_cost"] * (l[1] - l[2]) for o in orders
                   for l in o.lines)
        util_all = [u for d in daily for u in d["utilisation_by_node"].values()]
        return {
            "orders": len(orders), "units_ordered": ordered,
            "fill_rate_units": round(shipped / ordered, 4) if ordered else 1.0,
            "fill_rate_orders": round(len(first_time) / len(orders), 4) if orders else 1.0,
            "backorder_units_end": daily[-1]["backorder_units"] if daily else 0,
            "backorder_value_end": daily[-1]["backorder_value"] if daily else 0.0,
            "backorder_unit_days": sum(d["backorder_units"] for d in daily),
            "split_shipment_rate": round(self.split_orders / len(done), 4) if done else 0.0,
            "cost_per_order": round(self.shipping_cost / len(shipped_orders), 4)
            if shipped_orders else 0.0,
            "cycle_time_days": round(sum(o.done_day - o.day + o.transit_days for o in done)
                                     / len(done), 3) if done else None,
            "node_utilisation": round(sum(util_all) / len(util_all), 4) if util_all else 0.0,
            "stockout_sku_days": sum(d["stockout_skus"] for d in daily),
            "po_spend": round(self.po_spend, 2),
            "avg_inventory_value": round(avg_inv, 2),
            "inventory_turns": round((cogs / avg_inv) * (365 / days), 3) if avg_inv else None,
            "ledger_conserved": self.ledger.conserved(),
            "movements": self.ledger.movements,
        }


def route_with_optimizer(doc: dict, *, seed: int = 0) -> dict:
    from optimizer import routing
    problem = routing.parse_problem(doc)
    return routing.solve(problem, workers=1, seed=seed).to_json()


def replenish_with_optimizer(doc: dict, *, seed: int = 0) -> dict:
    from optimizer import replenishment
    problem = replenishment.parse_problem(doc)
    return replenishment.solve(problem, workers=1, seed=seed).to_json()


def simulate(scenario: Scenario, world: World, seed: int, progress=None) -> Run:
    return Simulation(scenario, world, seed).run(progress)
